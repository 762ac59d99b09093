"""What each part of the web page does when the user acts: one class per panel, over :mod:`app.service`.

- :mod:`app.panels.library` — uploads, the documents table, delete / re-index, collections;
- :mod:`app.panels.chat` — one tab's conversation (:class:`~app.panels.chat.ChatSession`), asking,
  Stop, Regenerate, the cited-page preview;
- :mod:`app.panels.models` — the model in use, the doctor's plan, switching local models;
- :mod:`app.panels.settings` — the settings saved to folio.toml;
- :mod:`app.panels.api` — the named API endpoints for ``gradio_client``;
- :mod:`app.panels.export` — the chat's Export: the conversation as Markdown and JSON files;
- :mod:`app.panels.errors` — the one place a :class:`~core.errors.FolioError` becomes ``gr.Error``.

Panels shape results for display with :mod:`app.ui_render` and words from :mod:`app.i18n`; the
layout that wires them to components is :mod:`app.ui`.
"""
