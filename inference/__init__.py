"""Models: registry and download, GGUF inspection, hardware probe and offload plan, generation backends.

``inference`` may import llama_cpp and huggingface_hub; never chromadb or gradio. Its chat backends
implement :class:`core.chat.ChatModel`.
"""
