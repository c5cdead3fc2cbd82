// The article's discussion, fetched once the reader comes near it (after the cached page has
// loaded): the section's link is replaced by the comments and the forms this reader may use.
// Without script, the link leads to the discussion's own page.
(function () {
  'use strict';
  var section = document.querySelector('[data-comments-src]');
  if (!section || !window.fetch) return;

  function load() {
    fetch(section.getAttribute('data-comments-src'), { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (!response.ok) throw new Error('the discussion answered ' + response.status);
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement('div');
        holder.innerHTML = html;
        var fresh = holder.querySelector('#comments');
        if (!fresh) return;
        section.replaceWith(fresh);
        if (location.hash.indexOf('#comment') === 0) {
          var target = document.getElementById(location.hash.slice(1));
          if (target) target.scrollIntoView();
        }
      })
      .catch(function () {});
  }

  // A reader sent to a comment, or a browser without IntersectionObserver, loads at once;
  // others when the discussion is about to scroll into view.
  if (location.hash.indexOf('#comment') === 0 || !('IntersectionObserver' in window)) {
    load();
    return;
  }
  var observer = new IntersectionObserver(function (entries) {
    if (entries.some(function (entry) { return entry.isIntersecting; })) {
      observer.disconnect();
      load();
    }
  }, { rootMargin: '600px 0px' });
  observer.observe(section);
})();
