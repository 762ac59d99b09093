"""What every package of Folio shares: the user-facing error tree and the chat-model interface.

``core`` imports nothing of the project. ``rag`` asks for a :class:`core.chat.ChatModel`,
``inference`` implements it and ``app`` hands one in, so ``rag`` and ``inference`` never import
each other; all three raise the errors of :mod:`core.errors`.
"""
