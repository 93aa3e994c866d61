"""Classical Chinese verse: forms, the tones and rhymes of characters, the rules of regulated
verse, a checker for them, and the logit processor that makes generation obey them."""
