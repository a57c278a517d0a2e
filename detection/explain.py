"""What a moderator reads: the labels, the cue groups in plain words, and what the model
was trained on and measured to do (from its manifest).

Strings are English and marked with `gettext_noop`; the platform translates them (the
French is in platform/locale). Nothing here imports Django."""
from __future__ import annotations

from common.errors import gettext_noop

# The three labels. None of them claims a file is real: a detector can only fail to find
# signs of generation, and only of the kinds of generator it has seen.
NO_SIGN, SUSPICIOUS, LIKELY_GENERATED = "no_sign", "suspicious", "likely_generated"
LABEL_TEXT = {
    NO_SIGN: gettext_noop("No sign of generation found"),
    SUSPICIOUS: gettext_noop("Suspicious"),
    LIKELY_GENERATED: gettext_noop("Likely generated"),
}
LABELS = tuple(LABEL_TEXT.values())

# What a low score does and does not mean (every result carries it).
LOW_SCORE_CAVEAT = gettext_noop(
    "A low score means the detector found none of the signs it knows; it does not show that the video is real. "
    "It was trained on the generator families listed, and generators it has not seen can pass unnoticed.")

# Each cue group: a plain name, the sentence when it points towards generation, the one
# when it points towards a camera.
CUE_TEXT = {
    "spectral": (gettext_noop("Fine detail"),
                 gettext_noop("The fine detail of the face or background has the spectrum of a resampled or "
                              "synthesised picture, not a camera's."),
                 gettext_noop("The fine detail looks like a camera's.")),
    "noise_residual": (gettext_noop("Grain"),
                       gettext_noop("The picture's grain stays the same from frame to frame, where a camera's "
                                    "sensor noise is new in every frame."),
                       gettext_noop("The grain changes from frame to frame as a camera's does.")),
    "noise_consistency": (gettext_noop("Grain of face and background"),
                          gettext_noop("The face's grain does not move like the background's."),
                          gettext_noop("The face's grain moves with the background's, as in one camera picture.")),
    "stillness": (gettext_noop("Background stillness"),
                  gettext_noop("The background is stiller, or changes differently, than in a filmed scene."),
                  gettext_noop("The background changes as in a filmed scene.")),
    "warp": (gettext_noop("Smoothness of face motion"),
             gettext_noop("The face moves like a smoothly warped picture rather than a filmed face."),
             gettext_noop("The face's motion has the irregularity of a filmed face.")),
    "boundary": (gettext_noop("Edge of the face"),
                 gettext_noop("The edge between the face and the rest of the frame looks blended, or flickers on "
                              "its own."),
                 gettext_noop("The edge of the face sits in the frame as in a single camera picture.")),
    "parallax": (gettext_noop("Head against background"),
                 gettext_noop("The head moves without the background answering as it would with a real camera."),
                 gettext_noop("Head and background move together as with a real camera.")),
    "lip_motion": (gettext_noop("Lip movement"),
                   gettext_noop("The lips move with a rhythm or smoothness unusual for a real speaker."),
                   gettext_noop("The lips move like a real speaker's.")),
    "blinks": (gettext_noop("Blinking"),
               gettext_noop("The blinks (how often, how fast, both eyes together) are unusual for a real person."),
               gettext_noop("The blinks look like a real person's.")),
    "head_motion": (gettext_noop("Head movement"),
                    gettext_noop("The head sways in a way unusual for a real speaker: too regular, too smooth, or "
                                 "out of proportion with the mouth."),
                    gettext_noop("The head moves like a real speaker's.")),
    "face_shape": (gettext_noop("Shape of the face"),
                   gettext_noop("The nose, jaw or brows wobble, or stay rigid, in a way a real face does not."),
                   gettext_noop("The face keeps its shape as a real face does.")),
    "audio_mouth": (gettext_noop("Lips and voice"),
                    gettext_noop("The mouth follows the voice's loudness too closely, or leads or lags it "
                                 "unnaturally."),
                    gettext_noop("The mouth follows the voice loosely, as a real speaker's does.")),
    "mouth_interior": (gettext_noop("Inside the mouth"),
                       gettext_noop("The inside of the mouth (teeth, tongue) has an unusual texture, or changes "
                                    "unnaturally from frame to frame."),
                       gettext_noop("The inside of the mouth looks and changes as in a filmed face.")),
    "face_tracking": (gettext_noop("Face visibility"),
                      gettext_noop("The face is found in the frames unusually steadily or unsteadily."),
                      gettext_noop("The face is found in the frames as in a filmed video.")),
}

# Generator families as a moderator reads them.
FAMILY_TEXT = {
    "veritalk": gettext_noop("Veritalk (our engine: warp, procedural and learned motion)"),
    "aniportrait_audio": gettext_noop("AniPortrait (from audio)"),
    "aniportrait_video": gettext_noop("AniPortrait (from video)"),
    "emoportraits": "EMOPortraits",
    "hallo": "Hallo",
    "hallo2": "Hallo2",
    "liveportrait": "LivePortrait",
}


def label_key(score: float, thresholds: dict) -> str:
    """The label's key for a score: thresholds `suspicious` and `likely_generated` (older
    manifests call the second one `synthetic`)."""
    likely = thresholds.get("likely_generated", thresholds.get("synthetic", 0.5))
    if score >= likely:
        return LIKELY_GENERATED
    if score >= thresholds.get("suspicious", likely):
        return SUSPICIOUS
    return NO_SIGN


def cue(group: str, effect: float) -> dict:
    """One cue group in words: its name and the sentence for the direction it pushes."""
    name, towards_generated, towards_real = CUE_TEXT.get(group, (group, group, group))
    generated = effect > 0
    return {"group": group, "name": name, "sentence": towards_generated if generated else towards_real,
            "pushes": "generated" if generated else "real", "effect": round(float(effect), 4)}


def model_card(manifest: dict | None) -> dict:
    """What every result says about the model: the generator families it was trained on and
    its measured rates (from its manifest), or that they were not measured."""
    manifest = manifest or {}
    fams = manifest.get("trained_on") or []
    card = manifest.get("measured") or {}
    return {"trained_on": [{"family": f, "name": FAMILY_TEXT.get(f, f)} for f in fams],
            "measured": card or None, "caveat": LOW_SCORE_CAVEAT}
