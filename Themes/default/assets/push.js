// Breaking-news alerts by Web Push: the footer's control appears only where the browser can
// take them, asks for permission when the reader presses it, and tells the site where to send.
(function () {
  'use strict';
  var box = document.querySelector('[data-push-key]');
  if (!box || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return;
  var button = box.querySelector('[data-push-toggle]');
  var status = box.querySelector('[role="status"]');
  var data = box.dataset;

  function applicationServerKey(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function current() {
    return navigator.serviceWorker.getRegistration('/').then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  }

  function send(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) throw new Error('the site answered ' + response.status);
    });
  }

  function show() {
    return current().then(function (subscription) {
      button.textContent = subscription ? data.offLabel : data.onLabel;
      button.setAttribute('aria-pressed', subscription ? 'true' : 'false');
      box.hidden = false;
    });
  }

  function turnOn() {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== 'granted') {
        status.textContent = data.denied;
        return;
      }
      return navigator.serviceWorker.register(data.pushWorker, { scope: '/' })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (registration) {
          return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey(data.pushKey) });
        })
        .then(function (subscription) {
          var body = subscription.toJSON();
          body.edition = data.edition;
          return send(data.pushSubscribe, body);
        })
        .then(function () { status.textContent = data.onDone; });
    });
  }

  function turnOff(subscription) {
    return send(data.pushUnsubscribe, { endpoint: subscription.endpoint })
      .then(function () { return subscription.unsubscribe(); })
      .then(function () { status.textContent = data.offDone; });
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    current()
      .then(function (subscription) { return subscription ? turnOff(subscription) : turnOn(); })
      .catch(function () { status.textContent = data.failed; })
      .then(function () { button.disabled = false; return show(); });
  });
  show().catch(function () {});
})();
