// Parley agent console: canned responses, live updates over server-sent events, notifications.
// Plain JavaScript, no external code; the pages work without it (forms post normally).
(function () {
  "use strict";
  var body = document.body;
  var leaving = false;  // a form is being submitted: its response replaces the page anyway

  function csv(value) {
    return (value || "").split(",").filter(function (v) { return v !== ""; });
  }

  function toast(html) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("div");
    item.className = "toast";
    item.innerHTML = html;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 8000);
  }

  function fetchInto(url, target, after) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { target.innerHTML = html; if (after) { after(); } })
      .catch(function () { /* the next event or reconnect refreshes again */ });
  }

  function scrollTranscript() {
    var t = document.getElementById("transcript");
    if (t) { t.scrollTop = t.scrollHeight; }
  }

  function refreshPage() {
    var board = document.getElementById("board");
    if (board && body.dataset.board) { fetchInto(body.dataset.board, board); }
    var transcript = document.getElementById("transcript");
    if (transcript && body.dataset.lines) {
      fetchInto(body.dataset.lines + "?after=0", transcript, scrollTranscript);
    }
  }

  function notifyHandoff(data) {
    var mine = csv(body.dataset.myQueues);
    if (mine.length && mine.indexOf(data.queue) < 0) { return; }
    var link = "/console/conversations/" + data.conversation_id;
    toast("New conversation in <strong>" + String(data.queue).replace(/[<>&"]/g, "") +
          "</strong>. <a href=\"" + link + "\">Open</a>");
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

  function connect() {
    if (!body.dataset.live || !window.EventSource) { return; }
    var dot = document.getElementById("live-dot");
    var source = new EventSource(body.dataset.live);
    source.addEventListener("hello", function () {
      if (dot) { dot.classList.add("on"); }
      body.dataset.liveReady = "1";
    });
    source.addEventListener("error", function () { if (dot) { dot.classList.remove("on"); } });
    source.addEventListener("message", function (e) { onMessage(JSON.parse(e.data).data); });
    source.addEventListener("resync", refreshPage);
    source.addEventListener("signed-out", function () { source.close(); window.location.reload(); });
    ["opened", "claimed", "returned", "resolved", "reopened", "escalated"].forEach(function (a) {
      source.addEventListener("handoff." + a, function (e) { onHandoff("handoff." + a, JSON.parse(e.data).data); });
    });
  }

  function cannedResponses() {
    var select = document.getElementById("canned");
    if (!select) { return; }
    select.addEventListener("change", function () {
      var target = document.getElementById(select.dataset.target);
      var box = document.getElementById(select.dataset.debtBox);
      var chosen = select.options[select.selectedIndex];
      // The canned reply says whether it is about the debt (canned.yml `mentions_debt`).
      if (box && select.value) { box.checked = chosen.dataset.mentionsDebt !== "false"; }
      if (target && select.value) { target.value = select.value; target.focus(); }
      select.selectedIndex = 0;
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
