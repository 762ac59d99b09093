"""Documents → chunks → vectors → index → search → packed context → prompt → verified citations.

``rag`` never imports ``llama_cpp`` or ``gradio``; the answering code asks for a small
:class:`core.chat.ChatModel` that ``inference`` implements and ``app`` hands in.
"""
