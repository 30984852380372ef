//! Selection bounds and mapping screen cells to content points.

use super::*;

fn point(line: usize, col: usize) -> Point {
    Point { line: (0, line), col }
}

#[test]
fn a_selection_is_ordered_and_inclusive_and_keys_take_whole_lines() {
    let mut s = Selection::new(&AppState::for_tests(), Pane::Code, point(5, 3), Mode::Mouse);
    s.cursor = point(2, 7);
    assert_eq!(s.bounds(), (point(2, 7), point(5, 3)));
    assert_eq!(s.columns((0, 2)), Some((7, usize::MAX)));
    assert_eq!(s.columns((0, 3)), Some((0, usize::MAX)));
    assert_eq!(s.columns((0, 5)), Some((0, 4)), "the last cell is selected too");
    assert_eq!(s.columns((0, 6)), None);
    s.mode = Mode::Keys;
    assert_eq!(s.columns((0, 5)), Some((0, usize::MAX)));
    assert_eq!(s.columns((0, 2)), Some((0, usize::MAX)));
}

#[test]
fn a_point_snaps_to_the_nearest_row_with_text() {
    let rows = PaneRows {
        text: Rect::new(10, 5, 20, 4),
        col_offset: 8,
        lines: vec![None, Some((0, 40)), Some((0, 41)), None],
    };
    assert_eq!(rows.point_at(12, 6), Some(point(40, 10)), "columns count the scroll");
    assert_eq!(rows.point_at(0, 0), Some(point(40, 0)), "above: the first line's start");
    assert_eq!(rows.point_at(15, 30), Some(point(41, usize::MAX - 1)), "below: the last line's end");
    assert_eq!(PaneRows::default().point_at(0, 0), None);
}
