"""Hallo's audio-driven portrait diffusion model, laid out so that Hallo's `net.pth`
loads key for key: layout.py (the five parts), denoising_unet.py (with temporal.py's
motion modules and audio_attention.py's audio modules), reference.py (reference
attention), nets.py (the small nets), weights.py (the model folder and strict
loading), face_inputs.py and audio_features.py (preprocessing from local models),
sampling.py (one clip, as Hallo samples it)."""
