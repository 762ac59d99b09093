"""Settings, wiring (one factory builds everything), the Gradio UI and the CLI."""
