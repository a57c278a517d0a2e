"""Words, not codes: every code the portal shows people (verdicts, job and case states,
moderation actions and decisions, purposes, channels, policy rules, provenance
states) has a label and a sentence here, marked for translation. One mapping, read by
every template through the portal's `words` template library and by the portal's and the
live pages' forms (so it lives below both)."""
from __future__ import annotations

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _


class Word(NamedTuple):
    label: object
    sentence: object = ""


VOCABULARY: dict[str, dict[str, Word]] = {
    "verdict": {
        "authentic": Word(_("Verified"), _("Made by Veritalk, unaltered since signing.")),
        "revoked": Word(_("Consent revoked"), _("Made by Veritalk, but the subject has revoked consent for it.")),
        "tampered": Word(_("Altered"), _("Provenance data is present but does not match the file: it was altered "
                                         "after signing, or a Veritalk watermark was copied onto other content.")),
        "provenance_stripped": Word(_("Provenance removed"),
                                    _("A Veritalk output whose C2PA manifest was removed; identified by its "
                                      "watermark, manifest recovered from the registry.")),
        "untrusted_signer": Word(_("Unknown signer"), _("Signed, but not by a signer this platform trusts.")),
        "no_provenance": Word(_("No provenance"), _("No Veritalk watermark and no C2PA manifest: not known to be a "
                                                    "Veritalk output.")),
    },
    "job_status": {
        "denied": Word(_("Denied by policy"), _("The policy refused this video; nothing was made.")),
        "checking": Word(_("Checking"), _("The photo's face is being checked against the subject's enrolment and "
                                          "consent.")),
        "queued": Word(_("Queued"), _("Waiting for a worker to start making the video.")),
        "running": Word(_("Running"), _("The video is being made.")),
        "succeeded": Word(_("Succeeded"), _("The video was made, watermarked and signed.")),
        "failed": Word(_("Failed"), _("Something went wrong while making the video; nothing was released.")),
        "cancelled": Word(_("Cancelled"), _("The video was cancelled before it was made.")),
    },
    "job_error": {   # why a job stopped, by its error code (the stored message where none is here)
        "consent_revoked": Word(_("Consent revoked"), _("The person in this video revoked their consent: the video was "
                                                        "cancelled before it was made and the uploaded files were "
                                                        "deleted.")),
        "no_face": Word(_("No face"), _("No face was found in the photo.")),
        "multiple_faces": Word(_("Several faces"), _("The photo shows more than one face; it must show exactly one "
                                                    "person.")),
        "internal_error": Word(_("Internal error"), _("Something went wrong on our side; nothing was released. Try "
                                                      "again, or tell us if it happens again.")),
    },
    "case_status": {
        "queued": Word(_("Queued"), _("Waiting for the detector.")),
        "running": Word(_("Analysing"), _("The detector and the provenance check are running.")),
        "done": Word(_("Analysed"), _("The analysis has finished.")),
        "failed": Word(_("Analysis failed"), _("The file could not be analysed.")),
    },
    "case_decision": {
        "open": Word(_("Not decided yet"), _("No decision yet.")),
        "cleared": Word(_("Cleared"), _("A moderator found nothing wrong.")),
        "flagged": Word(_("Flagged"), _("Marked for attention.")),
        "taken_down": Word(_("Taken down"), _("Our output is no longer served to anyone.")),
        "escalated": Word(_("Escalated"), _("Passed on for a senior decision.")),
    },
    "action": {
        "clear": Word(_("Clear"), _("Nothing wrong: close the case.")),
        "flag": Word(_("Flag"), _("Mark the file for attention.")),
        "take_down": Word(_("Take down"), _("Stop serving this output to anyone.")),
        "escalate": Word(_("Escalate"), _("Pass the case on for a senior decision.")),
    },
    "purpose": {
        "personal": Word(_("Personal"), _("For the creator's own, private use.")),
        "education": Word(_("Education"), _("Teaching and learning material.")),
        "entertainment": Word(_("Entertainment"), _("Films, games, shows and fun.")),
        "marketing": Word(_("Marketing"), _("Advertising and promotion.")),
        "accessibility": Word(_("Accessibility"), _("Making content accessible, for example sign or dubbing.")),
        "internal": Word(_("Internal"), _("Inside an organisation only.")),
        "demo": Word(_("Demonstration"), _("Showing what the platform does.")),
        "test": Word(_("Test"), _("Trying the platform out.")),
        "live": Word(_("Live session"), _("A real-time session.")),
    },
    "channel": {
        "web": Word(_("Web"), _("Web sites.")),
        "social": Word(_("Social media"), _("Social networks.")),
        "broadcast": Word(_("Broadcast"), _("Television and radio.")),
        "internal": Word(_("Internal"), _("Inside an organisation only.")),
        "private": Word(_("Private"), _("Shown to no one else.")),
    },
    "rule": {
        "creator-vetted": Word(_("Vetted creator"), _("The creator's account must be vetted.")),
        "consent-active": Word(_("Active consent"), _("The subject must have granted a consent that is in force.")),
        "allowed-purpose": Word(_("Allowed purpose"), _("The purpose must be one Veritalk allows.")),
        "consent-scope": Word(_("Within the consent"), _("The purpose, channel and number of videos must be "
                                                          "covered by the consent.")),
        "identity-match": Word(_("Same person"), _("The photo must show the subject who consented.")),
        "protected-person": Word(_("Protected person"), _("Faces on the protected list need an elevated consent.")),
        "one-face": Word(_("One face"), _("The photo must show exactly one face.")),
        "input-limits": Word(_("Input limits"), _("The photo and the voice track must be within the size and "
                                                  "length limits.")),
        "rate-limit": Word(_("Rate limit"), _("A creator may make only so many requests a day.")),
    },
    "c2pa_state": {
        "Trusted": Word(_("Trusted"), _("Signed by a signer this platform trusts; the file matches its manifest.")),
        "Valid": Word(_("Valid, signer not trusted"), _("The manifest matches the file, but its signer is not one "
                                                        "this platform trusts.")),
        "Invalid": Word(_("Invalid"), _("A manifest is present but does not match the file.")),
        "Absent": Word(_("Absent"), _("The file carries no C2PA manifest.")),
    },
    "detector_label": {
        "Authentic": Word(_("Looks authentic"), _("The detector found nothing of a talking-portrait engine; this "
                                                  "is not proof that the file is real.")),
        "Suspicious": Word(_("Suspicious"), _("Some cues of a talking-portrait engine.")),
        "Synthetic": Word(_("Synthetic"), _("Strong cues of a talking-portrait engine.")),
    },
    "c2pa_action": {
        "c2pa.created": Word(_("Created")),
        "c2pa.watermarked": Word(_("Watermarked")),
        "c2pa.edited": Word(_("Edited")),
        "c2pa.opened": Word(_("Opened")),
        "c2pa.placed": Word(_("Placed")),
        "c2pa.converted": Word(_("Converted")),
        "c2pa.transcoded": Word(_("Transcoded")),
    },
    "c2pa_relationship": {
        "parentOf": Word(_("its source")),
        "componentOf": Word(_("a component")),
        "inputTo": Word(_("an input")),
    },
    "pushes": {   # which way a detector feature moves the score
        "generated": Word(_("towards generated")),
        "authentic": Word(_("towards authentic")),
    },
    "cue": {   # the detector's feature families (detection.features.feature_group)
        "spectral": Word(_("Frequency spectrum"), _("How fine detail is spread over frequencies.")),
        "noise_residual": Word(_("Sensor noise"), _("The grain a camera sensor leaves.")),
        "stillness": Word(_("Background stillness"), _("How still the background is around the face.")),
        "warp": Word(_("Motion field"), _("How the image moves: warping shows as smooth, rigid motion.")),
        "audio_mouth": Word(_("Lips and voice"), _("How the mouth follows the voice.")),
        "mouth_interior": Word(_("Inside the mouth"), _("Teeth and tongue detail.")),
        "kinematics": Word(_("Face and head movement"), _("Blinks, head turns and lip movement over time.")),
    },
    "invitation": {
        "pending": Word(_("waiting for an answer")),
        "accepted": Word(_("accepted")),
        "expired": Word(_("expired")),
    },
    "matched_by": {
        "hash": Word(_("the file's hash")),
        "watermark": Word(_("its watermark")),
        "registry": Word(_("the registry")),
        "fingerprint": Word(_("its content fingerprint")),
    },
}


def word(kind: str, code) -> Word:
    """The label and sentence of `code`; an unknown code is shown as it is (never hidden)."""
    return VOCABULARY.get(kind, {}).get(code) or Word(str(code) if code is not None else "")


def label(kind: str, code) -> str:
    return str(word(kind, code).label)


def sentence(kind: str, code) -> str:
    return str(word(kind, code).sentence)


def choices(kind: str, codes) -> list[tuple[str, object]]:
    """Form choices for `codes`, labelled."""
    return [(c, word(kind, c).label) for c in codes]


# The policy's refusals, one sentence per (check, outcome), with the values the policy's own
# text carried (read back from it by portal.reasons); never a consent number or a rule id.
REASONS: dict[tuple[str, str], object] = {
    ("creator_vetted", "not_vetted"): _("Creator %(creator_username)s has not been vetted yet; an admin or moderator "
                                       "must vet the account first."),
    ("creator_vetted", "not_creator"): _("Account %(creator_username)s is not a creator account."),
    ("consent_active", "missing"): _("%(subject_name)s has not granted you consent."),
    ("consent_active", "revoked"): _("%(subject_name)s revoked their consent on %(consent_revoked_at)s."),
    ("consent_active", "expired"): _("%(subject_name)s's consent expired on %(consent_expires_at)s."),
    ("consent_active", "not_started"): _("%(subject_name)s's consent is not valid before %(consent_starts_at)s."),
    ("allowed_purpose", "no_purpose"): _("The request does not say what the video is for; choose a purpose."),
    ("allowed_purpose", "not_allowed"): _("The purpose “%(purpose)s” is not allowed on Veritalk; allowed purposes: "
                                          "%(allowed)s."),
    ("consent_in_scope", "purpose"): _("%(subject_name)s did not consent to videos for “%(purpose)s” (the consent "
                                       "covers: %(granted)s)."),
    ("consent_in_scope", "unknown_channel"): _("The channel “%(channel)s” is not known; channels: %(known)s."),
    ("consent_in_scope", "no_channel"): _("The consent is limited to some channels (%(granted)s); say where the video "
                                          "will be shown."),
    ("consent_in_scope", "channel"): _("%(subject_name)s did not consent to videos shown on “%(channel)s” (the "
                                       "consent covers: %(granted)s)."),
    ("consent_in_scope", "quota"): _("The consent allows %(consent_max_videos)s video(s) and all of them have been "
                                     "made or are under way."),
    ("identity_match", "not_enrolled"): _("%(subject_name)s has not enrolled their face, so no photo can be matched "
                                          "to their consent."),
    ("identity_match", "mismatch"): _("The photo does not show %(subject_name)s: the face does not match the face "
                                      "they enrolled."),
    ("protected_person", "protected"): _("The photo shows a person on Veritalk's protected list; videos of them need "
                                         "an elevated consent verified by an administrator."),
    ("exactly_one_face", "no_face"): _("No face was found in the photo."),
    ("exactly_one_face", "several_faces"): _("The photo shows %(photo_face_count)s faces; it must show exactly one "
                                             "person."),
    ("input_limits", "photo_too_large"): _("The photo is %(photo_bytes)s; the policy allows at most "
                                           "%(params_max_photo_bytes)s."),
    ("input_limits", "audio_too_large"): _("The voice track is %(audio_bytes)s; the policy allows at most "
                                           "%(params_max_audio_bytes)s."),
    ("input_limits", "audio_too_long"): _("The voice track is %(audio_seconds)s s long; the policy allows at most "
                                          "%(params_max_audio_seconds)s s."),
    ("rate_limit", "unknown"): _("Your recent videos could not be counted; try again later."),
    ("rate_limit", "jobs"): _("%(creator_username)s has reached the limit of %(params_max_jobs)s videos in "
                              "%(params_window_hours)s hours."),
    ("rate_limit", "denials"): _("%(creator_username)s had %(params_max_denied)s refused requests in "
                                 "%(params_window_hours)s hours; try again later."),
}
