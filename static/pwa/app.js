// App shell: sign-in and the signed-in user, in Russian or English.
const TEXT = {
  ru: { title: "Аудит сервиса", login: "Логин", password: "Пароль", signin: "Войти",
        hello: "Здравствуйте", signout: "Выйти", bad: "Неверный логин или пароль",
        offline: "Нет соединения", other: "EN" },
  en: { title: "Service audit", login: "Login", password: "Password", signin: "Sign in",
        hello: "Hello", signout: "Sign out", bad: "Wrong login or password",
        offline: "No connection", other: "RU" },
};
let lang = localStorage.getItem("lang") || (navigator.language.startsWith("ru") ? "ru" : "en");
let csrf = null;

function render() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = TEXT[lang][el.dataset.i18n];
  });
  document.getElementById("lang").textContent = TEXT[lang].other;
}

function show(me) {
  document.getElementById("login").hidden = Boolean(me);
  document.getElementById("me").hidden = !me;
  if (me) {
    csrf = me.csrf_token;
    document.getElementById("name").textContent = me.display_name;
    document.getElementById("role").textContent = me.role;
  }
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (csrf) headers["X-CSRFToken"] = csrf;
  return fetch(path, { credentials: "same-origin", ...options, headers });
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "ru" ? "en" : "ru";
  localStorage.setItem("lang", lang);
  render();
});

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const response = await api("/api/v1/auth/login", {
      method: "POST",
      body: JSON.stringify({ login: form.get("login"), password: form.get("password") }),
    });
    if (!response.ok) { error.textContent = TEXT[lang].bad; return; }
    show(await response.json());
  } catch (e) {
    error.textContent = TEXT[lang].offline;
  }
});

document.getElementById("logout").addEventListener("click", async () => {
  await api("/api/v1/auth/logout", { method: "POST" });
  csrf = null;
  show(null);
});

render();
api("/api/v1/auth/me").then((r) => (r.ok ? r.json() : null)).then(show).catch(() => show(null));
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js");
