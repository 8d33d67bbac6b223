-- Years from one observation date to another. Dates on the same day of the month, or both at a
-- month's end (31 Dec -> 31 Dec, 30 Sep -> 30 Sep), count whole months / 12, so year-end to year-end
-- is exactly 1 per year; other pairs count days / 365.25.
CREATE OR REPLACE MACRO marts.elapsed_years(start_date, end_date) AS
    CASE WHEN day(start_date) = day(end_date)
              OR (last_day(start_date) = start_date AND last_day(end_date) = end_date)
         THEN date_diff('month', start_date, end_date) / 12
         ELSE date_diff('day', start_date, end_date) / 365.25
    END;
COMMENT ON MACRO marts.elapsed_years IS 'Years between two observation dates: whole months / 12 when the dates fall on the same day of the month or both at month end, else days / 365.25.';
