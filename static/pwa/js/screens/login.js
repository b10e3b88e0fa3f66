// Sign-in screen. Used at first start and when the session expired (the outbox is kept and
// sent as soon as the shopper is back in).
import * as api from "../api.js";
import { t } from "../i18n.js";
import { h, mount } from "../ui.js";

/** Draw the sign-in form; `onSignedIn(me)` runs after a successful sign-in. */
export function renderLogin(view, { onSignedIn }) {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const loginInput = h("input", { id: "login-name", name: "login", autocomplete: "username", required: true, autocapitalize: "none" });
  const passwordInput = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card stack", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const me = await api.login(loginInput.value.trim(), passwordInput.value);
      await onSignedIn(me);
    } catch (e) {
      error.textContent = e.status === 0 ? t("offline") : e.status === 401 ? t("badLogin") : e.message;
    }
  } },
    h("label", { for: "login-name" }, t("login")), loginInput,
    h("label", { for: "login-password" }, t("password")), passwordInput,
    h("button", { type: "submit", class: "primary" }, t("signin")),
    error);
  mount(view, h("h1", {}, t("signin")), form);
}
