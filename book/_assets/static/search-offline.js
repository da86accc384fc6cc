/* Search excerpts over file:// (book/_ext/course_pages.py writes this script, with every page's text in
 * window.COURSE_SEARCH_PAGES, into _static/search-pages.js, which only the search page loads).
 *
 * Sphinx's search fetches each result's page to cut an excerpt from it; browsers refuse fetch() on file:// URLs,
 * so a book opened from disk listed bare titles. There, a request for one of the book's pages is answered from
 * the texts carried by this script; every other request goes to the browser's fetch as before.
 */
(() => {
  if (window.location.protocol !== "file:" || !window.COURSE_SEARCH_PAGES) return;
  const pages = window.COURSE_SEARCH_PAGES;
  const root = new URL(document.documentElement.dataset.content_root || "./", window.location.href);
  const browserFetch = window.fetch.bind(window);
  window.fetch = (resource, init) => {
    const url = new URL(typeof resource === "string" ? resource : resource.url, window.location.href);
    const page = decodeURIComponent(url.pathname).slice(decodeURIComponent(root.pathname).length);
    if (url.protocol === "file:" && Object.prototype.hasOwnProperty.call(pages, page)) {
      return Promise.resolve(new Response(pages[page], { headers: { "Content-Type": "text/html" } }));
    }
    return browserFetch(resource, init);
  };
})();
