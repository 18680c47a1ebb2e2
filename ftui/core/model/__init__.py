"""What a model is (facts read from its config), the Hugging Face cache and downloads, hub search."""
