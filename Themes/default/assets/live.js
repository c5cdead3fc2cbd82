// A live story's page, kept current: the story's event stream (server-sent events) adds new
// updates, replaces edited ones, moves pinned ones and takes removed ones away, without a
// reload. Readers without script use the reload link instead; the page is the same.
(function () {
  "use strict";
  var section = document.querySelector("[data-live-events]");
  if (!section || !window.EventSource) return;
  var stream = document.getElementById("live-stream");
  var pinned = document.getElementById("live-pinned");
  var keyList = document.getElementById("key-events-list");
  var announcer = document.getElementById("live-announcer");
  if (!stream || !pinned || !keyList) return;

  // The version each update was last seen at: a change is applied once, whichever way it
  // came (the catch-up on connecting and the live stream may both carry it).
  var seen = {};
  Array.prototype.forEach.call(section.querySelectorAll(".live-update[data-version]"), function (element) {
    seen[element.id] = parseInt(element.getAttribute("data-version"), 10) || 0;
  });

  function sequence(anchor) {
    return parseInt(String(anchor).replace("update-", ""), 10) || 0;
  }

  // Newest first, by each update's place in the story.
  function place(container, element) {
    var n = sequence(element.id || element.getAttribute("data-anchor"));
    var children = container.children;
    for (var i = 0; i < children.length; i++) {
      var other = children[i].id || children[i].getAttribute("data-anchor");
      if (sequence(other) < n) {
        container.insertBefore(element, children[i]);
        return;
      }
    }
    container.appendChild(element);
  }

  // Updates older than the oldest the page shows live on the pages of earlier updates.
  var oldest = parseInt(stream.getAttribute("data-live-oldest"), 10) || 0;
  function offPage(change) {
    return !change.pinned && oldest > 0 && sequence(change.anchor) < oldest;
  }

  function keyEvent(change, element) {
    var item = document.createElement("li");
    item.setAttribute("data-anchor", change.anchor);
    var link = document.createElement("a");
    link.href = offPage(change)
      ? stream.getAttribute("data-live-older") + "?before=" + (sequence(change.anchor) + 1) + "#" + change.anchor
      : "#" + change.anchor;
    var time = element.querySelector("time");
    if (time) link.appendChild(time.cloneNode(true));
    link.appendChild(document.createTextNode(" " + change.headline));
    item.appendChild(link);
    place(keyList, item);
  }

  function apply(change, version) {
    if ((seen[change.anchor] || 0) >= version) return;
    seen[change.anchor] = version;
    var existing = document.getElementById(change.anchor);
    var isNew = !existing;
    if (existing) existing.parentNode.removeChild(existing);
    var listed = keyList.querySelector('li[data-anchor="' + change.anchor + '"]');
    if (listed) listed.parentNode.removeChild(listed);
    if (!change.removed) {
      var template = document.createElement("template");
      template.innerHTML = change.html;
      var element = template.content.firstElementChild;
      if (!element) return;
      if (!offPage(change)) place(change.pinned ? pinned : stream, element);
      if (change.keyEvent && change.headline) keyEvent(change, element);
      if (isNew && announcer) announcer.textContent = section.getAttribute("data-live-announce") || "";
    }
    pinned.parentNode.hidden = pinned.children.length === 0;
    keyList.parentNode.hidden = keyList.children.length === 0;
  }

  var after = section.getAttribute("data-live-version") || "0";
  var source = new EventSource(section.getAttribute("data-live-events") + "?after=" + encodeURIComponent(after));
  // Too far behind to catch up change by change: the page itself is newer.
  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
  source.addEventListener("update", function (event) {
    var change;
    try {
      change = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    apply(change, parseInt(event.lastEventId, 10) || 0);
  });
})();
