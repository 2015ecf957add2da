from teranga.handoff.repeated_fallbacks import consecutive_fallbacks, fallback_response


def test_first_fallbacks_ask_to_rephrase():
    assert fallback_response(["nlu_fallback", "greet"]) == "utter_ask_rephrase"
    assert fallback_response(["nlu_fallback", "nlu_fallback", "greet"]) == "utter_ask_rephrase"


def test_third_fallback_in_a_row_points_to_a_person():
    intents = ["nlu_fallback"] * 3 + ["greet"]
    assert consecutive_fallbacks(intents) == 3
    assert fallback_response(intents) == "utter_request_human"


def test_an_understood_message_resets_the_count():
    assert consecutive_fallbacks(["nlu_fallback", "greet", "nlu_fallback"]) == 1
