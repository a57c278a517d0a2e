"""An EMO/Hallo-style audio-driven diffusion model built from diffusers blocks:
a reference UNet whose self-attention features condition a denoising UNet, which
also attends to audio tokens (wav2vec2 -> audio projection) and across frames
(temporal attention), with a face-region locator and a face-identity projection.
See nets.py for the parts and weights.py for the checkpoint layout."""
