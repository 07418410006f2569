"""Building answers from passages: sentence scoring, composition, answer-type cues, calibrated confidence."""
