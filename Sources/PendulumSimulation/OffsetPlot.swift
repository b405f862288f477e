/// Writes an offset trace as CSV or as a self-contained SVG line chart.
public enum OffsetPlot {
    public static func csv(_ trace: [(time: Double, offset: Double)]) -> String {
        var text = "time_seconds,offset_seconds\n"
        text.reserveCapacity(trace.count * 24)
        for point in trace {
            text += "\(point.time),\(point.offset)\n"
        }
        return text
    }

    /// A line chart of offset (µs) against time (s). Long traces are thinned to about
    /// `maximumPoints` points, keeping each bucket's extremes so spikes stay visible.
    public static func svg(
        _ trace: [(time: Double, offset: Double)], title: String, maximumPoints: Int = 2000
    ) -> String {
        let width = 900.0
        let height = 420.0
        let left = 80.0
        let right = 20.0
        let top = 40.0
        let bottom = 50.0
        guard let first = trace.first, let last = trace.last else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\"></svg>\n"
        }
        var points: [(time: Double, offset: Double)] = []
        let bucket = max(1, trace.count / max(1, maximumPoints / 2))
        var index = 0
        while index < trace.count {
            let slice = trace[index..<min(trace.count, index + bucket)]
            if let low = slice.min(by: { $0.offset < $1.offset }), let high = slice.max(by: { $0.offset < $1.offset }) {
                if low.time <= high.time {
                    points.append(low)
                    if high.time != low.time { points.append(high) }
                } else {
                    points.append(high)
                    points.append(low)
                }
            }
            index += bucket
        }
        let micro = points.map { $0.offset * 1e6 }
        var low = micro.min() ?? -1
        var high = micro.max() ?? 1
        if high - low < 1e-3 {
            low -= 1
            high += 1
        }
        let span = max(last.time - first.time, 1)
        func x(_ time: Double) -> Double { left + (time - first.time) / span * (width - left - right) }
        func y(_ value: Double) -> Double { top + (high - value) / (high - low) * (height - top - bottom) }
        func format(_ value: Double) -> String {
            let rounded = (value * 100).rounded() / 100
            return String(rounded)
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(format(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(escape(title))</text>\n"
        // Axes and grid: five labelled lines each way.
        for step in 0...4 {
            let value = low + (high - low) * Double(step) / 4
            let position = y(value)
            svg += "<line x1=\"\(format(left))\" y1=\"\(format(position))\" x2=\"\(format(width - right))\" "
            svg += "y2=\"\(format(position))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(format(left - 6))\" y=\"\(format(position + 4))\" text-anchor=\"end\">\(format(value))</text>\n"
            let time = first.time + span * Double(step) / 4
            let column = x(time)
            svg += "<text x=\"\(format(column))\" y=\"\(format(height - bottom + 18))\" text-anchor=\"middle\">\(format(time))</text>\n"
        }
        if low < 0 && high > 0 {
            svg += "<line x1=\"\(format(left))\" y1=\"\(format(y(0)))\" x2=\"\(format(width - right))\" y2=\"\(format(y(0)))\" stroke=\"#888\"/>\n"
        }
        svg += "<text x=\"\(format(width / 2))\" y=\"\(format(height - 10))\" text-anchor=\"middle\">time (s)</text>\n"
        svg += "<text x=\"16\" y=\"\(format(height / 2))\" text-anchor=\"middle\" "
        svg += "transform=\"rotate(-90 16 \(format(height / 2)))\">offset from true time (µs)</text>\n"
        svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" points=\""
        for (point, value) in zip(points, micro) {
            svg += "\(format(x(point.time))),\(format(y(value))) "
        }
        svg += "\"/>\n</svg>\n"
        return svg
    }

    private static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
