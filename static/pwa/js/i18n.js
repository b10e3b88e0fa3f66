// Texts of the app in Russian and English; the shopper's choice is remembered on the device.
const TEXTS = {
  ru: {
    title: "Аудит сервиса", switchLang: "English", switchLangLabel: "Switch to English",
    login: "Логин", password: "Пароль", signin: "Войти", signout: "Выйти",
    badLogin: "Неверный логин или пароль", offline: "Нет соединения", online: "В сети",
    sessionExpired: "Сессия истекла. Войдите снова: неотправленные данные сохранены и уйдут после входа.",
    notAllowed: "Нет доступа", notAllowedText: "Этот раздел недоступен для вашей роли.",
    notFound: "Страница не найдена", notFoundText: "Такой страницы нет.", toHome: "На главную",
    assignments: "Задания", pastAudits: "Мои отчёты", outbox: "Исходящие",
    noAssignments: "Открытых заданий нет.", window: "Срок", dayPart: "Часть дня",
    checklist: "Чек-лист", address: "Адрес", status: "Статус",
    st_assigned: "назначено", st_in_progress: "в работе", st_submitted: "отправлено",
    st_returned: "возвращено на доработку", st_approved: "принято", st_rejected: "отклонено",
    st_released: "опубликовано", st_disputed: "оспаривается", st_resolved: "решено",
    st_draft: "черновик на телефоне", st_queued: "ждёт отправки", st_needs_fix: "нужно исправить",
    st_conflict: "конфликт",
    dp_morning: "утро", dp_afternoon: "день", dp_evening: "вечер", dp_weekend: "выходные",
    reviewerComment: "Комментарий проверяющего", open: "Открыть", startVisit: "Начать визит",
    continueVisit: "Продолжить визит", fixReport: "Исправить отчёт",
    visitStarted: "Визит начат", back: "Назад", staffServed: "Кто обслуживал",
    staffHint: "Выберите сотрудника из списка филиала или опишите его, если не знаете имени.",
    notChosen: "— не выбрано —", unknownDescribe: "Не знаю имени — опишу",
    describe: "Описание сотрудника (внешность, бейдж)", role: "Роль",
    toChecklist: "К чек-листу", section: "Раздел", of: "из", answered: "отвечено",
    yes: "Да", no: "Нет", na: "Не применимо", guidance: "Как оценивать (стандарт)",
    critical: "Критичный пункт", photoRequired: "Нужно фото", photoOnFail: "Фото, если не выполнено",
    takePhoto: "Сделать фото", removePhoto: "Удалить фото", photo: "Фото",
    photoProcessing: "Обработка фото…", photoFailed: "Не удалось прочитать изображение",
    seconds: "сек", stopwatchStart: "Запустить секундомер", stopwatchStop: "Остановить секундомер",
    stopwatchRunning: "Идёт отсчёт", next: "Далее", prev: "Назад", review: "Проверить и отправить",
    missing: "Чего не хватает", nothingMissing: "Всё заполнено.", noAnswer: "нет ответа",
    needPhoto: "нужно фото", needPhotoFail: "нужно фото: пункт не выполнен",
    staffNeedsDescription: "опишите сотрудника", submit: "Отправить отчёт",
    submitQueued: "Отчёт сохранён и будет отправлен при появлении связи.",
    comment: "Общий комментарий", visitTime: "Время визита",
    outboxEmpty: "Всё отправлено.", syncNow: "Отправить сейчас", syncing: "Отправка…",
    waiting: "ждут отправки", nextTry: "следующая попытка", attempts: "попыток",
    kind_photo: "Фото", kind_withdraw: "Удаление фото", kind_submit: "Отчёт",
    blocked: "Требует внимания", serverSays: "Сервер ответил", whatToFix: "Что исправить",
    differs: "Этот отчёт уже отправлен с другим содержимым. Отправленная версия сохранена на сервере; ваша локальная копия не отправлена.",
    discardLocal: "Удалить локальную копию", keep: "Оставить",
    confirmDiscard: "Удалить локальную копию отчёта? Отправленная версия останется на сервере.",
    confirmLogout: "Есть неотправленные данные. Они останутся на телефоне и уйдут после следующего входа. Выйти?",
    lowSpace: "Мало места на устройстве: фото могут не сохраниться. Отправьте данные или освободите место.",
    persistDenied: "Браузер может очистить данные при нехватке места: отправляйте отчёты как можно скорее.",
    updateReady: "Доступна новая версия приложения. Черновики сохранены.", reload: "Обновить",
    noPastAudits: "Отчётов пока нет.", score: "Баллы", submittedAt: "Отправлен",
    savedLocally: "Сохранено на телефоне", location: "Местоположение записано",
    noLocation: "Местоположение не записано", loading: "Загрузка…",
    needOnlineFirst: "Нужна связь для первой загрузки заданий.", refresh: "Обновить",
    lastSynced: "Данные от", skipTo: "Перейти к содержимому", menu: "Разделы",
    removeConfirm: "Удалить это фото?", itemsInSection: "Пункты раздела",
    yourVersion: "Версия приложения", photos: "фото",
  },
  en: {
    title: "Service audit", switchLang: "Русский", switchLangLabel: "Переключить на русский",
    login: "Login", password: "Password", signin: "Sign in", signout: "Sign out",
    badLogin: "Wrong login or password", offline: "Offline", online: "Online",
    sessionExpired: "Your session has expired. Sign in again: unsent data is kept and will be sent after you sign in.",
    notAllowed: "Not allowed", notAllowedText: "Your role cannot open this page.",
    notFound: "Page not found", notFoundText: "There is no such page.", toHome: "Go to the start",
    assignments: "Assignments", pastAudits: "My reports", outbox: "Outbox",
    noAssignments: "No open assignments.", window: "Window", dayPart: "Day part",
    checklist: "Checklist", address: "Address", status: "Status",
    st_assigned: "assigned", st_in_progress: "in progress", st_submitted: "submitted",
    st_returned: "returned for fixes", st_approved: "approved", st_rejected: "rejected",
    st_released: "released", st_disputed: "disputed", st_resolved: "resolved",
    st_draft: "draft on this phone", st_queued: "waiting to be sent", st_needs_fix: "needs fixing",
    st_conflict: "conflict",
    dp_morning: "morning", dp_afternoon: "afternoon", dp_evening: "evening", dp_weekend: "weekend",
    reviewerComment: "Reviewer's comment", open: "Open", startVisit: "Start visit",
    continueVisit: "Continue visit", fixReport: "Fix the report",
    visitStarted: "Visit started", back: "Back", staffServed: "Who served you",
    staffHint: "Pick the employee from the branch's list, or describe them if you do not know the name.",
    notChosen: "— not chosen —", unknownDescribe: "Name unknown — describe",
    describe: "Description of the employee (looks, badge)", role: "Role",
    toChecklist: "To the checklist", section: "Section", of: "of", answered: "answered",
    yes: "Yes", no: "No", na: "N/A", guidance: "How to judge (the standard)",
    critical: "Critical item", photoRequired: "Photo required", photoOnFail: "Photo if not met",
    takePhoto: "Take a photo", removePhoto: "Remove photo", photo: "Photo",
    photoProcessing: "Processing the photo…", photoFailed: "Could not read this image",
    seconds: "s", stopwatchStart: "Start stopwatch", stopwatchStop: "Stop stopwatch",
    stopwatchRunning: "Running", next: "Next", prev: "Back", review: "Check and submit",
    missing: "What is missing", nothingMissing: "Everything is filled in.", noAnswer: "no answer",
    needPhoto: "a photo is needed", needPhotoFail: "a photo is needed: the item is not met",
    staffNeedsDescription: "describe the employee", submit: "Submit the report",
    submitQueued: "The report is saved and will be sent when there is a connection.",
    comment: "Overall comment", visitTime: "Visit time",
    outboxEmpty: "Everything is sent.", syncNow: "Send now", syncing: "Sending…",
    waiting: "waiting to be sent", nextTry: "next try", attempts: "attempts",
    kind_photo: "Photo", kind_withdraw: "Photo removal", kind_submit: "Report",
    blocked: "Needs your attention", serverSays: "The server says", whatToFix: "What to fix",
    differs: "This report was already submitted with other content. The submitted version is kept on the server; your local copy was not sent.",
    discardLocal: "Delete the local copy", keep: "Keep",
    confirmDiscard: "Delete the local copy of this report? The submitted version stays on the server.",
    confirmLogout: "Some data is not sent yet. It stays on this phone and is sent after the next sign-in. Sign out?",
    lowSpace: "Storage on this device is low: photos may not be saved. Send your data or free some space.",
    persistDenied: "The browser may clear data when space runs low: send reports as soon as you can.",
    updateReady: "A new version of the app is ready. Your drafts are kept.", reload: "Update",
    noPastAudits: "No reports yet.", score: "Score", submittedAt: "Submitted",
    savedLocally: "Saved on this phone", location: "Location recorded",
    noLocation: "Location not recorded", loading: "Loading…",
    needOnlineFirst: "A connection is needed to load your assignments the first time.",
    refresh: "Refresh", lastSynced: "Data from", skipTo: "Skip to content", menu: "Sections",
    removeConfirm: "Remove this photo?", itemsInSection: "Items of the section",
    yourVersion: "App version", photos: "photos",
  },
};

let lang = localStorage.getItem("lang") || (navigator.language.startsWith("en") ? "en" : "ru");

/** The current language code ("ru" or "en"). */
export function getLang() {
  return lang;
}

/** Switch the language and remember the choice on this device. */
export function setLang(code) {
  lang = code === "en" ? "en" : "ru";
  localStorage.setItem("lang", lang);
  document.documentElement.lang = lang;
}

/** Add texts of a group of screens: `extra` is {ru: {...}, en: {...}}; a key defined twice is
 * a mistake and throws (each screen module owns its keys). */
export function addTexts(extra) {
  for (const language of Object.keys(TEXTS)) {
    for (const [key, value] of Object.entries(extra[language] || {})) {
      if (key in TEXTS[language]) throw new Error(`text ${key} defined twice`);
      TEXTS[language][key] = value;
    }
  }
}

/** The text for `key` in the current language (the key itself if missing, to spot gaps). */
export function t(key) {
  return TEXTS[lang][key] ?? TEXTS.ru[key] ?? key;
}

/** A checklist text ({ru, en} or a plain string) in the current language. */
export function tr(text) {
  if (text == null) return "";
  if (typeof text === "string") return text;
  return text[lang] || text.ru || text.en || Object.values(text)[0] || "";
}

/** A date/time in the current language, in the phone's time zone. */
export function fmtDateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", {
    dateStyle: "medium", timeStyle: "short",
  });
}

/** A calendar date (YYYY-MM-DD) in the current language. */
export function fmtDate(day) {
  if (!day) return "";
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(lang === "ru" ? "ru-RU" : "en-GB", {
    day: "numeric", month: "short",
  });
}

document.documentElement.lang = lang;
