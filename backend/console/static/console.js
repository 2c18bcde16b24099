// Parley agent console: canned responses, live updates over server-sent events, notifications.
// Plain JavaScript, no external code; the pages work without it (forms post normally).
(function () {
  "use strict";
  var body = document.body;
  var leaving = false;  // a form is being submitted: its response replaces the page anyway

  function csv(value) {
    return (value || "").split(",").filter(function (v) { return v !== ""; });
  }

  // A toast stays until the agent dismisses it: no time limit to read it or reach its link.
  function toast(html) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "toast";
    var words = document.createElement("span");
    words.innerHTML = html;
    item.appendChild(words);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss this notification");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    box.appendChild(item);
  }

  // Replacing part of the page must not drop keyboard focus to the body: refocus the element
  // with the same id, or the region itself when that element is gone.
  function keepingFocus(target, update) {
    var active = document.activeElement;
    var inside = Boolean(active) && active !== target && target.contains(active);
    var focusedId = inside ? active.id : "";
    update();
    if (!inside || target.contains(document.activeElement)) { return; }
    var again = focusedId ? document.getElementById(focusedId) : null;
    (again || target).focus({ preventScroll: true });
  }

  function fetchInto(url, target, update, after) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        keepingFocus(target, function () { update(target, html); });
        if (after) { after(); }
      })
      .catch(function () { /* the next event or reconnect refreshes again */ });
  }

  function replace(target, html) { target.innerHTML = html; }

  // The transcript is a live log: whatever enters it is read out. New lines enter whole; a
  // line already shown (its intent or delivery status arrived later) keeps its nodes and only
  // the part that changed is swapped, so the debtor's message is never read out twice.
  function mergeLines(transcript, html) {
    var fresh = document.createElement("ol");
    fresh.innerHTML = html;
    Array.prototype.slice.call(fresh.children).forEach(function (line) {
      var old = line.id ? document.getElementById(line.id) : null;
      if (!old) { transcript.appendChild(line); }
      else { patch(old, line); }
    });
  }

  // Descend while the two elements differ only inside their child elements; replace the
  // smallest element that differs in itself (its attributes, its own text, its shape).
  function patch(old, fresh) {
    if (old.isEqualNode(fresh)) { return; }
    if (!sameShell(old, fresh)) { old.replaceWith(fresh); return; }
    var kept = Array.prototype.slice.call(old.children);
    Array.prototype.slice.call(fresh.children).forEach(function (part, i) { patch(kept[i], part); });
  }

  function sameShell(old, fresh) {
    if (!old.cloneNode(false).isEqualNode(fresh.cloneNode(false)) ||
        old.childNodes.length !== fresh.childNodes.length) { return false; }
    return Array.prototype.every.call(old.childNodes, function (node, i) {
      var other = fresh.childNodes[i];
      return node.nodeType === 1 ? other.nodeType === 1 : node.isEqualNode(other);
    });
  }

  function scrollTranscript() {
    var t = document.getElementById("transcript");
    if (t) { t.scrollTop = t.scrollHeight; }
  }

  function refreshPage() {
    var board = document.getElementById("board");
    if (board && body.dataset.board) { fetchInto(body.dataset.board, board, replace); }
    var transcript = document.getElementById("transcript");
    if (transcript && body.dataset.lines) {
      fetchInto(body.dataset.lines + "?after=0", transcript, mergeLines, scrollTranscript);
    }
  }

  function notifyHandoff(data) {
    var mine = csv(body.dataset.myQueues);
    if (mine.length && mine.indexOf(data.queue) < 0) { return; }
    var link = "/console/conversations/" + data.conversation_id;
    toast("New conversation in <strong>" + String(data.queue).replace(/[<>&"]/g, "") +
          "</strong>. <a href=\"" + link + "\">Open the conversation</a>");
    if (!document.hasFocus()) { document.title = "● " + document.title.replace(/^● /, ""); }
    if (window.Notification && Notification.permission === "granted") {
      new Notification("Parley: a conversation needs you", { body: "Queue: " + data.queue, tag: link });
    }
  }

  function onHandoff(kind, data) {
    if (body.dataset.page === "queue") { refreshPage(); }
    if (kind === "handoff.opened") { notifyHandoff(data); }
    if (body.dataset.page === "conversation" &&
        String(data.conversation_id) === body.dataset.conversation) {
      var draft = document.getElementById("reply-text");
      if (leaving) { return; }
      if (!draft || draft.value.trim() === "") { window.location.replace(window.location.pathname); }
      else { toast("This conversation changed hands. Reload when your reply is sent."); }
    }
  }

  function onMessage(data) {
    if (body.dataset.page !== "conversation") { return; }
    if (csv(body.dataset.conversations).indexOf(String(data.conversation_id)) < 0) { return; }
    refreshPage();
  }

  // The live indicator says its state in words, not by the dot's colour alone.
  function showLive(on, words) {
    var dot = document.getElementById("live-dot");
    var text = document.getElementById("live-text");
    if (dot) { dot.classList.toggle("on", on); }
    if (text) { text.textContent = words; }
  }

  function connect() {
    if (!body.dataset.live || !window.EventSource) { return; }
    var source = new EventSource(body.dataset.live);
    showLive(false, "Live updates connecting");
    source.addEventListener("hello", function () {
      showLive(true, "Live updates on");
      body.dataset.liveReady = "1";
    });
    source.addEventListener("error", function () { showLive(false, "Live updates reconnecting"); });
    source.addEventListener("message", function (e) { onMessage(JSON.parse(e.data).data); });
    source.addEventListener("resync", refreshPage);
    source.addEventListener("signed-out", function () { source.close(); window.location.reload(); });
    ["opened", "claimed", "returned", "resolved", "reopened", "escalated"].forEach(function (a) {
      source.addEventListener("handoff." + a, function (e) { onHandoff("handoff." + a, JSON.parse(e.data).data); });
    });
  }

  // Browsing the canned replies (arrow keys fire "change") never moves focus and never
  // replaces what the agent typed: it only previews into an empty draft, or one still holding
  // the previous preview. The Insert button puts the choice at the cursor of a typed draft.
  function cannedResponses() {
    var select = document.getElementById("canned");
    var insert = document.getElementById("canned-insert");
    var target = select && document.getElementById(select.dataset.target);
    if (!select || !target) { return; }
    var previewed = "";

    function untouched() { return target.value.trim() === "" || target.value === previewed; }

    function tickDebtBox(typed) {
      // The canned reply says whether it is about the debt (canned.yml `mentions_debt`); added
      // to a typed draft, it can only turn the tick on (the agent's words may be about it).
      var box = document.getElementById(select.dataset.debtBox);
      var about = select.options[select.selectedIndex].dataset.mentionsDebt !== "false";
      if (box) { box.checked = typed ? box.checked || about : about; }
    }

    select.addEventListener("change", function () {
      if (!select.value || !untouched()) { return; }
      target.value = previewed = select.value;
      tickDebtBox(false);
    });
    if (!insert) { return; }
    insert.hidden = false;
    insert.addEventListener("click", function () {
      if (!select.value) { select.focus(); return; }
      var typed = !untouched();
      if (typed) { target.setRangeText(select.value, target.selectionStart, target.selectionEnd, "end"); }
      else { target.value = previewed = select.value; }
      tickDebtBox(typed);
      target.focus();
    });
  }

  function askForNotifications() {
    if (!window.Notification || Notification.permission !== "default") { return; }
    document.addEventListener("click", function once() {
      Notification.requestPermission();
      document.removeEventListener("click", once);
    });
  }

  document.addEventListener("submit", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  window.addEventListener("focus", function () { document.title = document.title.replace(/^● /, ""); });
  document.addEventListener("DOMContentLoaded", function () {
    cannedResponses();
    scrollTranscript();
    askForNotifications();
    connect();
  });
})();
