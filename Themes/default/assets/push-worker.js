// The site's service worker: it shows the breaking-news alerts the site sends by Web Push and
// opens the story when the reader clicks one. It caches nothing.
'use strict';

self.addEventListener('push', function (event) {
  var message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {};
  }
  event.waitUntil(self.registration.showNotification(message.title || 'Breaking news', {
    body: message.body || '',
    lang: message.lang || '',
    dir: message.dir === 'rtl' ? 'rtl' : 'auto',
    tag: message.tag || 'breaking',
    data: { url: message.url || '/' }
  }));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  // Only ever this site: a story's address on another origin opens the home page instead.
  var target = new URL((event.notification.data && event.notification.data.url) || '/', self.location.origin);
  var url = target.origin === self.location.origin ? target.href : self.location.origin + '/';
  event.waitUntil(self.clients.openWindow(url));
});
