-- One answer per visitor per survey: the look-up that refuses a second one.
-- Answers stored before stay as they are.
CREATE INDEX survey_answers_by_visitor ON survey_answers (merchant_id, survey_id, visitor)
