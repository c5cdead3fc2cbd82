// Progressive enhancement for the admin; every form works without it.
// Live preview of the article body, a button to insert the paywall marker, and topic
// typeahead that adds chosen topics to the list at once.
(function () {
  "use strict";

  function csrfToken(form) {
    var field = form && form.querySelector('input[name="csrf"]');
    return field ? field.value : "";
  }

  function livePreview(textarea) {
    var target = document.getElementById(textarea.getAttribute("data-preview"));
    if (!target) return;
    var timer = null;
    var sequence = 0;
    function refresh() {
      var mine = ++sequence;
      var body = new URLSearchParams();
      body.set("body", textarea.value);
      fetch(textarea.dataset.previewUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken(textarea.form) },
        body: body
      }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        if (mine === sequence) target.innerHTML = html;
      }).catch(function () { /* the Preview button still works */ });
    }
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
    if (textarea.value.trim() !== "") refresh();
  }

  function paywallButton(button) {
    var textarea = document.getElementById(button.getAttribute("data-insert-paywall"));
    if (!textarea) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var marker = "\n\n<!-- paywall -->\n\n";
      var at = textarea.selectionStart;
      textarea.value = textarea.value.slice(0, at) + marker + textarea.value.slice(textarea.selectionEnd);
      textarea.selectionStart = textarea.selectionEnd = at + marker.length;
      textarea.focus();
      textarea.dispatchEvent(new Event("input"));
    });
  }

  // Picking a suggested topic turns it into a checked box in the list and clears the field
  // for the next one; the server takes these names as it takes the typed ones.
  function topicTypeahead(input) {
    var list = document.querySelector("[data-topic-list]");
    var options = document.getElementById(input.getAttribute("list"));
    if (!list || !options) return;
    input.addEventListener("change", function () {
      var name = input.value.trim();
      var known = Array.prototype.some.call(options.options, function (option) { return option.value === name; });
      if (!known) return;
      var item = document.createElement("li");
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "newTopicNames[]";
      box.value = name;
      box.checked = true;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + name));
      item.appendChild(label);
      list.appendChild(item);
      input.value = "";
    });
  }

  // The preview follows the edition chosen: Arabic reads right to left.
  function previewLanguage(select) {
    var target = document.getElementById(select.getAttribute("data-preview-language"));
    if (!target) return;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      target.setAttribute("lang", option.value);
      target.setAttribute("dir", option.getAttribute("data-dir") || "ltr");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-preview-language]"), previewLanguage);
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-preview]"), livePreview);
    Array.prototype.forEach.call(document.querySelectorAll("[data-insert-paywall]"), paywallButton);
    var topics = document.getElementById("field-newTopics");
    if (topics) topicTypeahead(topics);
  });
})();
