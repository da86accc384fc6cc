/* The course book's page scripts (book/_ext/course_pages.py adds this file to every page).
 *
 * pydata-sphinx-theme 0.17 and sphinx-book-theme 1.3 attach their sidebar handlers to the FIRST `.primary-toggle`
 * and `.secondary-toggle` of a page: a button of the theme's top bar, which the book layout never shows. The visible
 * ☰ and "On this page" buttons of the article header got no handler and did nothing on narrow screens
 * (pydata-sphinx-theme #2451, sphinx-book-theme #988). Every other toggle forwards its click to the first one, which
 * does what the theme intends at each width (a dialog under 992 px; collapsing the sidebar above).
 */
(() => {
  const forwardToggles = () => {
    for (const kind of ["primary", "secondary"]) {
      const [first, ...others] = document.querySelectorAll(`.${kind}-toggle`);
      for (const button of others) {
        button.addEventListener("click", (event) => {
          event.preventDefault();
          event.stopPropagation();
          first.click();
        });
      }
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", forwardToggles);
  else forwardToggles();
})();
