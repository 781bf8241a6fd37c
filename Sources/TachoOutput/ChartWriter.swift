import TachoTime

/// The `chart` output format (`tacho agg`, `tacho stats`): rows shaped `time, series…, value`
/// drawn per series as a horizontal bar chart, one bar per time in Unicode eighth blocks,
/// scaled to the largest value of all series, the time on the left, the value on the right
/// and a value axis below; a series of more than `maxBars` times is drawn as a sparkline
/// instead (one block per time, wrapped to the width, each line labelled with its first
/// time). The width is the caller's (the CLI: $COLUMNS, else the terminal's, else 80).
public struct ChartWriter: Sendable {
    public let columns: [String]
    public let width: Int
    /// Series longer than this are sparklines.
    public var maxBars = 40
    private var series: [(key: String, points: [(time: Int64, value: Double?)])] = []

    public init(columns: [String], width: Int) {
        self.columns = columns
        self.width = max(40, width)
    }

    /// One row: the first cell a time, the last a number (or null), those between name the series.
    public mutating func append(_ cells: [Cell]) {
        guard cells.count >= 2, case .time(let t) = cells[0] else { return }
        var value: Double?
        switch cells[cells.count - 1] {
        case .int(let v): value = Double(v)
        case .double(let v): value = v.isFinite ? v : nil
        default: value = nil
        }
        var parts: [String] = []
        for (i, c) in cells.enumerated().dropFirst().dropLast() {
            if case .text(let s) = c { parts.append("\(columns[i])=\(s)") }
        }
        let key = parts.isEmpty ? columns[columns.count - 1] : parts.joined(separator: ", ")
        if let i = series.firstIndex(where: { $0.key == key }) {
            series[i].points.append((t, value))
        } else {
            series.append((key, [(t, value)]))
        }
    }

    /// Every line of the chart, each ending in "\n".
    public func render(_ emit: (String) -> Void) {
        guard !series.isEmpty else {
            emit("(no rows)\n")
            return
        }
        let values = series.flatMap { $0.points.compactMap(\.value) }
        let top = max(values.max() ?? 0, 0)
        let bottom = min(values.min() ?? 0, 0)
        for (n, s) in series.enumerated() {
            if n > 0 { emit("\n") }
            emit(s.key + "\n")
            if s.points.count > maxBars {
                sparkline(s.points, low: bottom, high: top, emit)
            } else {
                bars(s.points, top: top, emit)
            }
        }
    }

    private func bars(_ points: [(time: Int64, value: Double?)], top: Double, _ emit: (String) -> Void) {
        let labels = points.map { Timestamp.format($0.time) }
        let texts = points.map { $0.value.map(TableWriter.number) ?? "-" }
        let labelWidth = labels.map(\.count).max() ?? 0
        let valueWidth = texts.map(\.count).max() ?? 0
        let barWidth = max(10, width - labelWidth - valueWidth - 3)
        for (i, p) in points.enumerated() {
            let bar = p.value.map { blocks($0, of: top, width: barWidth) } ?? ""
            let pad = String(repeating: " ", count: labelWidth - labels[i].count)
            emit(pad + labels[i] + " │" + bar + " " + texts[i] + "\n")
        }
        // The value axis: 0 under the bars' start, the top value under their end.
        let indent = String(repeating: " ", count: labelWidth + 1)
        emit(indent + "└" + String(repeating: "─", count: barWidth) + "\n")
        let topText = TableWriter.number(top)
        let gap = max(1, barWidth + 1 - 1 - topText.count)
        emit(indent + "0" + String(repeating: " ", count: gap) + topText + "\n")
    }

    /// `value` of `top` as `width` columns of eighth blocks.
    private func blocks(_ value: Double, of top: Double, width: Int) -> String {
        guard top > 0, value > 0 else { return "" }
        let eighths = Int((min(value, top) / top * Double(width * 8)).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }

    private func sparkline(_ points: [(time: Int64, value: Double?)], low: Double, high: Double, _ emit: (String) -> Void) {
        let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let span = high - low
        let label = { (t: Int64) in Timestamp.format(t) }
        let labelWidth = label(points[0].time).count
        let perLine = max(10, width - labelWidth - 2)
        var i = 0
        while i < points.count {
            let chunk = points[i..<min(i + perLine, points.count)]
            var line = label(chunk[chunk.startIndex].time) + " │"
            for p in chunk {
                guard let v = p.value else { line.append(" "); continue }
                let k = span > 0 ? Int(((v - low) / span * 7).rounded()) : 7
                line.append(levels[max(0, min(7, k))])
            }
            emit(line + "\n")
            i += perLine
        }
        let shown = points.compactMap(\.value)
        emit("min \(TableWriter.number(shown.min() ?? 0)), max \(TableWriter.number(shown.max() ?? 0)), \(points.count) points to \(label(points[points.count - 1].time))\n")
    }
}
