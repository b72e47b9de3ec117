// Applies the theme saved on this device before the first paint (the account's preference,
// loaded by app.js, wins afterwards). Only the theme name is kept here, never a credential.
(function () {
  try {
    var t = localStorage.getItem("promptdb.theme");
    if (t === "light" || t === "dark") document.documentElement.setAttribute("data-theme", t);
  } catch (e) { /* storage disabled: follow the system */ }
})();
