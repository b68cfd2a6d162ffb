// The console's live parts: countdowns, stale camera tiles, alerts over server-sent events.
(function () {
  "use strict";
  const ru = document.body.dataset.lang === "ru";
  const baseTitle = document.title;
  let unseen = 0;

  function span(seconds) {
    const s = Math.abs(Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + (ru ? " ч " : " h ") : "") + m + (ru ? " мин " : " min ") + (h ? "" : sec + (ru ? " с" : " s"));
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll(".countdown[data-to]").forEach(function (el) {
      const left = (Date.parse(el.dataset.to) - now) / 1000;
      el.textContent = left >= 0 ? span(left) : el.dataset.passed + " " + span(left);
      el.classList.toggle("late", left < 0);
    });
    // A picture older than its limit is stale: greyed, labelled with its age, never live.
    document.querySelectorAll(".tile[data-picture-at]").forEach(function (el) {
      const at = Date.parse(el.dataset.pictureAt);
      const age = isNaN(at) ? Infinity : (now - at) / 1000;
      const stale = age > Number(el.dataset.staleAfter);
      el.classList.toggle("stale", stale);
      const label = el.querySelector(".stale-label");
      if (label && isFinite(age)) {
        label.textContent = stale ? (ru ? "нет кадра уже " : "no picture for ") + Math.floor(age / 60) + (ru ? " мин" : " min") : "";
      }
    });
  }

  function showAlert(alert) {
    unseen += 1;
    document.title = "⚠ " + unseen + " · " + alert.kind + " · " + baseTitle;
    const box = document.getElementById("live-alerts");
    const item = document.createElement("div");
    item.className = "live-alert " + alert.kind;
    item.textContent = new Date(alert.at).toLocaleTimeString() + " " + alert.kind + ": " + alert.message;
    item.title = ru ? "нажмите, чтобы скрыть" : "click to dismiss";
    item.addEventListener("click", function () { item.remove(); });
    box.prepend(item);
    const list = document.getElementById("alert-list");
    if (list) {
      const li = document.createElement("li");
      li.textContent = item.textContent;
      list.prepend(li);
      list.querySelectorAll(".empty").forEach(function (e) { e.remove(); });
    }
  }

  function listen() {
    if (!window.EventSource) return;
    const source = new EventSource("/events?after=" + document.body.dataset.lastAlert);
    source.addEventListener("alert", function (event) {
      const alert = JSON.parse(event.data);
      document.body.dataset.lastAlert = alert.id;
      showAlert(alert);
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { unseen = 0; document.title = baseTitle; }
  });
  tick();
  setInterval(tick, 1000);
  if (document.querySelector("nav")) listen();
})();
