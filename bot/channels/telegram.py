"""Telegram with aiogram 3: the adapter holds a Bot and a Dispatcher and feeds them updates."""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from functools import partial

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bot.channels.base import (
    ChannelLimits,
    Delivery,
    LinkRequest,
    RawRequest,
    SendResult,
    WebhookBatch,
    json_body,
)
from bot.channels.errors import (
    ChannelError,
    MalformedPayload,
    PermanentChannelError,
    RecipientOptedOut,
    TransientChannelError,
)
from bot.channels.rendering import render
from bot.messages import Attachment, Choice, ConversationKey, InboundMessage

log = logging.getLogger(__name__)
# sendMessage takes 4096 characters; inline keyboards hold many buttons, callback data 64 bytes.
TELEGRAM_LIMITS = ChannelLimits(max_chars=4096, max_parts=3, max_buttons=8, button_label_chars=64)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Media a debtor can send; a photo comes in several sizes and the last is the largest.
MEDIA_KINDS = ("photo", "voice", "audio", "video", "video_note", "animation", "document",
               "sticker")
ANSWER_TIMEOUT = 5  # seconds for answerCallbackQuery, made after the ack
# The inbound metadata naming a `/start`: with a deep-link token, or bare.
START_COMMAND, START_LINK, START_BARE = "telegram_start", "link", "bare"


class TelegramAdapter:
    """Verifies the webhook secret, runs updates through aiogram, sends with the Bot."""

    channel = "telegram"
    provider = "telegram"
    limits = TELEGRAM_LIMITS

    def __init__(self, bot: Bot, webhook_secret: str | None, username: str | None = None):
        self.bot = bot
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(_router(bot.id))
        self._secret = (webhook_secret or "").encode()
        self.username = username

    def verify(self, request: RawRequest) -> bool:
        """X-Telegram-Bot-Api-Secret-Token, compared in constant time; no secret, no entry."""
        given = request.header("x-telegram-bot-api-secret-token").encode()
        return bool(self._secret) and hmac.compare_digest(given, self._secret)

    async def parse(self, request: RawRequest) -> WebhookBatch:
        """The update through aiogram; one aiogram cannot validate raises `MalformedPayload`."""
        try:
            update = Update.model_validate(json_body(request.body), context={"bot": self.bot})
        except ValidationError as exc:
            raise malformed_update(exc) from None
        try:
            update.event_type  # noqa: B018 - raises for a kind of update aiogram does not know
        except UpdateTypeLookupError:
            # A newer Bot API's update type: acknowledged and ignored (aiogram would warn with
            # the whole update, message text included, in the logs).
            return WebhookBatch()
        result = await self.dispatcher.feed_update(self.bot, update)
        return result if isinstance(result, WebhookBatch) else WebhookBatch()

    async def send(self, delivery: Delivery) -> SendResult:
        rendered = render(delivery.text, delivery.choices, self.limits)
        markup = _keyboard(rendered.buttons)
        first: Message | None = None
        for index in range(delivery.first_unsent(len(rendered.parts)), len(rendered.parts)):
            last = index == len(rendered.parts) - 1
            try:
                sent = await self.bot.send_message(
                    int(delivery.key.address), rendered.parts[index],
                    reply_markup=markup if last else None)
            except TelegramAPIError as exc:
                error = map_telegram_error(exc)
                error.parts_sent = index
                raise error from exc
            first = first or sent
        assert first is not None
        # Choices numbered into the text (no keyboard): the stored text is what the chat shows.
        text = None if rendered.buttons else rendered.text
        return SendResult(f"{first.chat.id}:{first.message_id}", "sent", text)

    async def start_link(self, token: str) -> str:
        """The t.me link that opens the bot with `/start <token>`; getMe names the bot if unset."""
        try:
            username = self.username or (await self.bot.me()).username
        except TelegramAPIError as exc:
            raise map_telegram_error(exc) from exc
        if not username:
            raise PermanentChannelError("telegram getMe returned no username", "400")
        return f"https://t.me/{username}?start={token}"

    async def set_webhook(self, url: str) -> bool:
        """Register the webhook with its secret (an explicit operator step, never at start-up)."""
        secret = self._secret.decode() or None
        return await self.bot.set_webhook(url, secret_token=secret,
                                          allowed_updates=ALLOWED_UPDATES)

    async def close(self) -> None:
        await self.bot.session.close()


def build_bot(token: str, api_url: str | None) -> Bot:
    """A Bot talking to `api_url` (a local Bot API server or a fake) or to api.telegram.org."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else None
    return Bot(token, session=session)


def map_telegram_error(exc: TelegramAPIError) -> ChannelError:
    """The one place Telegram failures become typed errors."""
    if isinstance(exc, TelegramForbiddenError):
        # 403: "bot was blocked by the user" or "can't initiate conversation" - both mean stop.
        return RecipientOptedOut("telegram user blocked the bot", "403")
    if isinstance(exc, TelegramRetryAfter):
        return TransientChannelError("telegram flood control", "429", float(exc.retry_after))
    if isinstance(exc, TelegramServerError | TelegramNetworkError):
        return TransientChannelError("telegram unavailable", "5xx")
    return PermanentChannelError(f"telegram {type(exc).__name__}", "400")


def _keyboard(buttons: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(text=c.label, callback_data=c.value[:64])] for c in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def attachments(message: Message) -> tuple[Attachment, ...]:
    """The message's media as `telegram:<kind>:<file_id>`, with the mime type when given."""
    # Not a download URL: that URL holds the bot token. getFile turns the id into one.
    found = []
    for kind in MEDIA_KINDS:
        media = getattr(message, kind)
        if isinstance(media, list):
            media = media[-1] if media else None
        if media is None or (kind == "document" and message.animation is not None):
            continue  # an animation also comes as a document copy of itself
        found.append(Attachment(f"telegram:{kind}:{media.file_id}",
                                getattr(media, "mime_type", None)))
    return tuple(found)


def _router(bot_id: int) -> Router:
    router = Router(name="parley")

    def key_of(chat_id: int) -> ConversationKey:
        return ConversationKey("telegram", str(chat_id))

    def inbound(update_id: int, chat_id: int, text: str, when: datetime,
                choice: str | None = None, media: tuple[Attachment, ...] = (),
                metadata: dict[str, str] | None = None) -> InboundMessage:
        # Update ids restart at random after a quiet week, so the id is (bot, update) - not order.
        return InboundMessage(key_of(chat_id), text, f"{bot_id}:{update_id}", when.astimezone(UTC),
                              attachments=media, choice_value=choice, metadata=metadata or {})

    def start(message: Message, event_update: Update, kind: str) -> InboundMessage:
        # `/start` is Telegram's "open the bot", no SMS START: the webhook answers it (by
        # what the link did) in the language the user's Telegram app is set to.
        language = message.from_user.language_code if message.from_user else None
        return inbound(event_update.update_id, message.chat.id, "/start", message.date,
                       metadata={START_COMMAND: kind, "language": language or ""})

    @router.message(CommandStart(deep_link=True))
    async def start_linked(message: Message, command: CommandObject, event_update: Update):
        key = key_of(message.chat.id)
        first = start(message, event_update, START_LINK)
        return WebhookBatch(messages=(first,), links=(LinkRequest(key, command.args or ""),))

    @router.message(CommandStart())
    async def start_bare(message: Message, event_update: Update) -> WebhookBatch:
        return WebhookBatch(messages=(start(message, event_update, START_BARE),))

    @router.message()
    async def any_message(message: Message, event_update: Update) -> WebhookBatch:
        text, media = message.text or message.caption or "", attachments(message)
        if not text and not media:
            return WebhookBatch()  # a location, a poll, a service message: nothing to keep
        return WebhookBatch(messages=(inbound(event_update.update_id, message.chat.id, text,
                                              message.date, media=media),))

    @router.callback_query()
    async def button(query: CallbackQuery, event_update: Update, bot: Bot) -> WebhookBatch:
        chat_id = query.message.chat.id if query.message else query.from_user.id
        when = datetime.now(UTC)
        # The text is what the debtor pressed as they saw it (an agent reads it); the data
        # is the choice value. answerCallbackQuery can fail or take seconds: it runs once
        # the press is stored.
        return WebhookBatch(messages=(inbound(event_update.update_id, chat_id, pressed(query),
                                              when, query.data),),
                            after_ack=(partial(_answer, bot, query.id),))

    @router.my_chat_member()
    async def membership(event: ChatMemberUpdated) -> WebhookBatch:
        if event.new_chat_member.status == "kicked":
            return WebhookBatch(opt_outs=(key_of(event.chat.id),))
        return WebhookBatch()

    return router


def pressed(query: CallbackQuery) -> str:
    """The label of the button pressed, from the message it sits on; else "[option N]"."""
    data = query.data or ""
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    for row in markup.inline_keyboard if markup else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    kind, _, arg = data.partition(":")
    if kind == "option" and arg.isdigit():
        return f"[option {int(arg) + 1}]"  # option values count from 0, the debtor from 1
    readable = arg.replace("_", " ") if kind == "intent" else data
    return f"[{readable}]" if readable else ""


async def _answer(bot: Bot, query_id: str) -> None:
    """Stop the button's spinner; best effort, after the press is stored and acknowledged."""
    try:
        await bot.answer_callback_query(query_id, request_timeout=ANSWER_TIMEOUT)
    except TelegramAPIError as exc:
        log.warning("answerCallbackQuery %s failed: %s", query_id, exc)


def malformed_update(exc: ValidationError) -> MalformedPayload:
    """The first validation error as a field path (`message.entities[0].offset`) and a reason.

    Pydantic's message names the expected type, never the input (which would be the text).
    """
    first = exc.errors(include_input=False, include_url=False)[0]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"])
    if not path:
        return MalformedPayload("body", "not a JSON object")
    reason = "required" if first["type"] == "missing" else str(first["msg"])
    return MalformedPayload(path.lstrip("."), reason)
