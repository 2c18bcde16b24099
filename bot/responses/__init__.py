"""Every sentence the bot says, by key and locale (YAML files), and how replies are rendered."""

from bot.responses.catalog import LOCALES, Catalog, CatalogError
from bot.responses.render import RenderContext, Rendered, Renderer

__all__ = ["LOCALES", "Catalog", "CatalogError", "RenderContext", "Rendered", "Renderer"]
