import Foundation

/// A small chart drawn on the server as inline SVG, so the dashboard reads without JavaScript:
/// a line for amounts over time, bars for counts. Each chart names itself and says its latest
/// value for screen readers; the numbers are also in a table beside it.
struct RevenueChart {
    struct Value {
        let label: String
        let amount: Double
    }

    enum Style {
        case line, bars
    }

    let id: String
    let title: String
    let values: [Value]
    let style: Style
    let format: (Double) -> String
    /// Time runs from right to left, as an Arabic reader reads it, with the scale on the right.
    var rightToLeft = false
    /// The chart's description for screen readers, from its latest and highest figures.
    var describe: (_ latest: String, _ highest: String) -> String = { "Latest, \($0); highest, \($1)." }

    private let width = 600.0
    private let height = 180.0
    private let left = 56.0
    private let bottom = 24.0
    private let top = 10.0

    var svg: String {
        let maximum = max(values.map(\.amount).max() ?? 0, 1)
        let plotWidth = width - left - 8
        let plotHeight = height - top - bottom
        let step = values.count > 1 ? plotWidth / Double(values.count - 1) : plotWidth
        // Drawn left to right, then mirrored point by point when time runs the other way.
        func mirror(_ position: Double) -> Double { rightToLeft ? width - position : position }
        func anchor(_ side: String) -> String {
            guard rightToLeft else { return side }
            return side == "start" ? "end" : side == "end" ? "start" : side
        }
        func x(_ index: Int) -> Double { mirror(left + Double(index) * step) }
        func y(_ amount: Double) -> Double { top + plotHeight - amount / maximum * plotHeight }
        let latest = values.last.map { "\($0.label): \(format($0.amount))" } ?? "—"
        var parts: [String] = []
        parts.append("<svg class=\"revenue-chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\">")
        parts.append("<title id=\"\(id)-title\">\(escape(title))</title>")
        parts.append("<desc id=\"\(id)-desc\">\(escape(describe(latest, format(values.map(\.amount).max() ?? 0))))</desc>")
        parts.append("<line class=\"revenue-chart__axis\" x1=\"\(mirror(left))\" y1=\"\(top + plotHeight)\" x2=\"\(mirror(width - 8))\" y2=\"\(top + plotHeight)\"/>")
        parts.append("<text class=\"revenue-chart__label\" x=\"\(mirror(left - 6))\" y=\"\(top + 8)\" text-anchor=\"\(anchor("end"))\">\(escape(format(maximum)))</text>")
        parts.append("<text class=\"revenue-chart__label\" x=\"\(mirror(left - 6))\" y=\"\(top + plotHeight)\" text-anchor=\"\(anchor("end"))\">\(escape(format(0)))</text>")
        for (index, side) in [(0, "start"), (values.count / 2, "middle"), (values.count - 1, "end")] where values.indices.contains(index) {
            parts.append("<text class=\"revenue-chart__label\" x=\"\(x(index))\" y=\"\(height - 6)\" text-anchor=\"\(anchor(side))\">\(escape(values[index].label))</text>")
        }
        switch style {
        case .line:
            let line = values.indices.map { "\(x($0)),\(y(values[$0].amount))" }.joined(separator: " ")
            parts.append("<polyline class=\"revenue-chart__line\" points=\"\(line)\"/>")
        case .bars:
            let barWidth = max(2, step * 0.6)
            let (plotStart, plotEnd) = rightToLeft ? (8.0, width - left) : (left, width - 8)
            for (index, value) in values.enumerated() where value.amount > 0 {
                let barX = min(max(plotStart, x(index) - barWidth / 2), plotEnd - barWidth)
                parts.append("<rect class=\"revenue-chart__bar\" x=\"\(barX)\" y=\"\(y(value.amount))\" width=\"\(barWidth)\" height=\"\(top + plotHeight - y(value.amount))\"/>")
            }
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private func escape(_ text: String) -> String {
        HTMLText.escape(text)
    }
}
