//! Elapsed times and countdowns as the TUI shows them, and when each shown value changes
//! next: the loop sets a timer only for that moment, so an idle board draws nothing.

use crate::model::Millis;

const SEC: Millis = 1000;
const MIN: Millis = 60 * SEC;
const HOUR: Millis = 60 * MIN;
const DAY: Millis = 24 * HOUR;

/// `<1m`, `7m`, `2h05m`, `3d4h`: minute granularity, so it changes once a minute at most.
pub fn elapsed(ms: Millis) -> String {
    let ms = ms.max(0);
    if ms < MIN {
        "<1m".into()
    } else if ms < HOUR {
        format!("{}m", ms / MIN)
    } else if ms < DAY {
        format!("{}h{:02}m", ms / HOUR, (ms % HOUR) / MIN)
    } else {
        format!("{}d{}h", ms / DAY, (ms % DAY) / HOUR)
    }
}

/// When `elapsed(now - since)` shows a different value next.
pub fn elapsed_changes_at(since: Millis, now: Millis) -> Millis {
    let gone = (now - since).max(0);
    let step = if gone < DAY { MIN } else { HOUR };
    since + (gone / step + 1) * step
}

/// `12m left`, `45s left` (seconds only in the last minute), `overdue`.
pub fn countdown(deadline: Millis, now: Millis) -> String {
    let left = deadline - now;
    if left <= 0 {
        "overdue".into()
    } else if left < MIN {
        format!("{}s left", (left + SEC - 1) / SEC)
    } else {
        format!("{} left", elapsed(left + MIN - 1))
    }
}

/// When `countdown(deadline, now)` shows a different value next (None once overdue).
pub fn countdown_changes_at(deadline: Millis, now: Millis) -> Option<Millis> {
    let left = deadline - now;
    if left <= 0 {
        return None;
    }
    let step = if left <= MIN { SEC } else { MIN };
    // The value changes when `left` crosses a multiple of `step`.
    let k = (left - 1) / step;
    Some(deadline - k * step)
        .filter(|at| *at > now)
        .or(Some(now + step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_is_coarse() {
        assert_eq!(elapsed(5 * SEC), "<1m");
        assert_eq!(elapsed(2 * MIN + 5 * SEC), "2m");
        assert_eq!(elapsed(HOUR + 5 * MIN), "1h05m");
        assert_eq!(elapsed(DAY + 3 * HOUR), "1d3h");
    }

    #[test]
    fn elapsed_changes_on_the_minute() {
        assert_eq!(elapsed_changes_at(0, 5 * SEC), MIN);
        assert_eq!(elapsed_changes_at(1000, MIN + 1000), 2 * MIN + 1000);
    }

    #[test]
    fn countdown_counts_seconds_only_at_the_end() {
        assert_eq!(countdown(10 * MIN, 0), "10m left");
        assert_eq!(countdown(10 * MIN, 30 * SEC), "10m left");
        assert_eq!(countdown(10 * MIN, 10 * MIN - 30 * SEC), "30s left");
        assert_eq!(countdown(0, 1), "overdue");
        let at = countdown_changes_at(10 * MIN, 30 * SEC).unwrap();
        assert_ne!(countdown(10 * MIN, at - 1), countdown(10 * MIN, at));
        let at = countdown_changes_at(MIN, 30 * SEC + 500).unwrap();
        assert_eq!(at, 31 * SEC);
        assert_eq!(countdown_changes_at(MIN, 2 * MIN), None);
    }
}
