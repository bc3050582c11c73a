import Foundation

/// A hand-written SVG figure of line charts: panels side by side, each with axes, "nice"
/// ticks (1-2-5 steps), labels and a legend under each panel (its own curves), in the style of
/// a paper figure. A curve that coincides with an earlier one in its panel is drawn dotted on
/// top of it and named so in the legend, so neither hides the other.
struct SVGFigure {
    struct Series {
        var name: String
        var color: String
        var dashed = false
        /// The earlier curve of the same panel this one coincides with (set by `render`).
        var coincidesWith: String? = nil
        /// Points (x, y); a non-finite y breaks the line.
        var points: [(Double, Double)]
    }

    struct Panel {
        var title: String
        var xLabel: String
        var yLabel: String
        var logY = false
        var series: [Series] = []
    }

    var title: String
    var panels: [Panel]
    var panelWidth = 420.0, panelHeight = 300.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    func render() -> String {
        let margin = (left: 64.0, right: 16.0, top: 56.0, bottom: 52.0)
        let panels = self.panels.map(Self.markingCoincidentCurves)
        let columns = 2
        let rows = panels.map { ($0.series.count + columns - 1) / columns }.max() ?? 0
        let legendHeight = Double(rows) * 18 + 12
        let width = margin.left + Double(panels.count) * (panelWidth + margin.left + margin.right) - margin.left
        let height = margin.top + panelHeight + margin.bottom + legendHeight
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" font-family="Helvetica, Arial, sans-serif">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(fmt(width / 2))" y="22" text-anchor="middle" font-size="16" font-weight="bold">\(escape(title))</text>

        """
        for (k, p) in panels.enumerated() {
            let x0 = margin.left + Double(k) * (panelWidth + margin.left + margin.right)
            s += panel(p, x0: x0, y0: margin.top, index: k)
            // This panel's legend, under it and within its width.
            let ly = margin.top + panelHeight + margin.bottom - 4
            s += "<g class=\"legend\" data-panel=\"\(k)\">\n"
            for (i, c) in p.series.enumerated() {
                let lx = x0 + Double(i % columns) * panelWidth / Double(columns)
                let yy = ly + Double(i / columns) * 18
                let name = c.name + (c.coincidesWith.map { " (on \($0))" } ?? "")
                s += "<line x1=\"\(fmt(lx))\" y1=\"\(fmt(yy))\" x2=\"\(fmt(lx + 26))\" y2=\"\(fmt(yy))\" stroke=\"\(c.color)\" \(stroke(c))/>\n"
                s += "<text x=\"\(fmt(lx + 32))\" y=\"\(fmt(yy + 4))\" font-size=\"12\">\(escape(name))</text>\n"
            }
            s += "</g>\n"
        }
        return s + "</svg>\n"
    }

    /// Marks each curve whose every point lies within 0.2% of the panel's y span of an earlier
    /// curve's (same x, same breaks): drawn dotted over it, named in the legend.
    static func markingCoincidentCurves(_ p: Panel) -> Panel {
        var p = p
        let ys = p.series.flatMap { $0.points.map(\.1) }.filter { $0.isFinite && (!p.logY || $0 > 0) }.map { p.logY ? log10($0) : $0 }
        let span = max((ys.max() ?? 0) - (ys.min() ?? 0), 1e-300)
        func scaled(_ y: Double) -> Double { p.logY ? (y > 0 ? log10(y) : .nan) : y }
        for i in p.series.indices {
            for j in 0..<i where p.series[j].coincidesWith == nil {
                let a = p.series[i].points, b = p.series[j].points
                guard a.count == b.count, !a.isEmpty else { continue }
                let same = zip(a, b).allSatisfy { u, v in
                    let (ya, yb) = (scaled(u.1), scaled(v.1))
                    return u.0 == v.0 && (ya.isFinite == yb.isFinite) && (!ya.isFinite || abs(ya - yb) <= 0.002 * span)
                }
                if same { p.series[i].coincidesWith = p.series[j].name; break }
            }
        }
        return p
    }

    /// The `data-coincides` attribute of a curve lying on another, else nothing.
    private func coincides(_ c: Series) -> String {
        guard let other = c.coincidesWith else { return "" }
        return " data-coincides=\"" + escape(other) + "\""
    }

    /// The stroke attributes of a curve: solid, dashed, or dotted and wider when it lies on another.
    private func stroke(_ c: Series) -> String {
        if c.coincidesWith != nil { return "stroke-width=\"3\" stroke-linecap=\"round\" stroke-dasharray=\"0.5 6\"" }
        return "stroke-width=\"2\"" + (c.dashed ? " stroke-dasharray=\"6 3\"" : "")
    }

    private func panel(_ p: Panel, x0: Double, y0: Double, index: Int) -> String {
        let xs = p.series.flatMap { $0.points.map(\.0) }.filter(\.isFinite)
        var ys = p.series.flatMap { $0.points.map(\.1) }.filter { $0.isFinite && (!p.logY || $0 > 0) }
        if p.logY { ys = ys.map { log10($0) } }
        let (xlo, xhi) = (xs.min() ?? 0, xs.max() ?? 1)
        var (ylo, yhi) = (ys.min() ?? 0, ys.max() ?? 1)
        if yhi - ylo < 1e-12 { ylo -= 0.5; yhi += 0.5 }
        let xt = ticks(xlo, xhi).filter { $0 >= xlo - 1e-9 * (xhi - xlo) && $0 <= xhi + 1e-9 * (xhi - xlo) }
        let yt = p.logY ? logTicks(ylo, yhi) : ticks(ylo, yhi)
        let (ax0, ax1) = (xlo, xhi > xlo ? xhi : xlo + 1)
        let (ay0, ay1) = (min(ylo, yt.first ?? ylo), max(yhi, yt.last ?? yhi))
        func px(_ x: Double) -> Double { x0 + (x - ax0) / (ax1 - ax0) * panelWidth }
        func py(_ y: Double) -> Double { y0 + panelHeight - (y - ay0) / (ay1 - ay0) * panelHeight }
        var s = "<g class=\"panel\" data-index=\"\(index)\">\n"
        s += "<text x=\"\(fmt(x0 + panelWidth / 2))\" y=\"\(fmt(y0 - 10))\" text-anchor=\"middle\" font-size=\"13\">\(escape(p.title))</text>\n"
        // Grid and ticks.
        for t in xt {
            s += "<line x1=\"\(fmt(px(t)))\" y1=\"\(fmt(y0))\" x2=\"\(fmt(px(t)))\" y2=\"\(fmt(y0 + panelHeight))\" stroke=\"#e5e7eb\"/>\n"
            s += "<text x=\"\(fmt(px(t)))\" y=\"\(fmt(y0 + panelHeight + 16))\" text-anchor=\"middle\" font-size=\"11\">\(tickLabel(t))</text>\n"
        }
        for t in yt {
            s += "<line x1=\"\(fmt(x0))\" y1=\"\(fmt(py(t)))\" x2=\"\(fmt(x0 + panelWidth))\" y2=\"\(fmt(py(t)))\" stroke=\"#e5e7eb\"/>\n"
            let label = p.logY ? "1e\(Int(t.rounded()))" : tickLabel(t)
            s += "<text x=\"\(fmt(x0 - 6))\" y=\"\(fmt(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(label)</text>\n"
        }
        if ay0 < 0 && ay1 > 0 && !p.logY {
            s += "<line x1=\"\(fmt(x0))\" y1=\"\(fmt(py(0)))\" x2=\"\(fmt(x0 + panelWidth))\" y2=\"\(fmt(py(0)))\" stroke=\"#9ca3af\"/>\n"
        }
        s += "<rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(panelWidth))\" height=\"\(fmt(panelHeight))\" fill=\"none\" stroke=\"#374151\"/>\n"
        s += "<text x=\"\(fmt(x0 + panelWidth / 2))\" y=\"\(fmt(y0 + panelHeight + 36))\" text-anchor=\"middle\" font-size=\"12\">\(escape(p.xLabel))</text>\n"
        s += "<text transform=\"translate(\(fmt(x0 - 46)),\(fmt(y0 + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(p.yLabel))</text>\n"
        // Curves, clipped to the panel.
        s += "<clipPath id=\"clip\(index)\"><rect x=\"\(fmt(x0))\" y=\"\(fmt(y0))\" width=\"\(fmt(panelWidth))\" height=\"\(fmt(panelHeight))\"/></clipPath>\n"
        for c in p.series {
            var d = "", pen = false
            for (x, y0v) in c.points {
                let y = p.logY ? (y0v > 0 ? log10(y0v) : .nan) : y0v
                guard x.isFinite, y.isFinite else { pen = false; continue }
                d += (pen ? "L" : "M") + "\(fmt(px(x))),\(fmt(py(y)))"
                pen = true
            }
            // The sampled data rides along, so the figure can be checked (and re-plotted) exactly.
            let xsData = c.points.map { String(format: "%.9g", $0.0) }.joined(separator: " ")
            let ysData = c.points.map { String(format: "%.9g", $0.1) }.joined(separator: " ")
            s += "<path class=\"curve\" data-series=\"\(escape(c.name))\" data-x=\"\(xsData)\" data-y=\"\(ysData)\" d=\"\(d)\" fill=\"none\" stroke=\"\(c.color)\" \(stroke(c))\(coincides(c)) clip-path=\"url(#clip\(index))\"/>\n"
        }
        return s + "</g>\n"
    }

    /// About five ticks at 1, 2 or 5 times a power of ten.
    func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / 5
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = (lo / step).rounded(.down) * step
        var out: [Double] = []
        while t <= hi + step * 0.5, out.count < 20 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = lo.rounded(.down), b = hi.rounded(.up)
        let step = max(1, ((b - a) / 6).rounded(.up))
        return stride(from: a, through: b, by: step).map { $0 }
    }

    func tickLabel(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e6 { return String(Int(v)) }
        return String(format: "%g", v)
    }

    func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Text for an XML element or attribute: markup characters escaped, and characters XML 1.0
    /// forbids (controls other than tab/newline, U+FFFE/U+FFFF, lone surrogates) replaced by U+FFFD.
    func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n": out.unicodeScalars.append(u)
            default:
                let v = u.value
                out.unicodeScalars.append(v < 0x20 || v == 0xFFFE || v == 0xFFFF || (v >= 0x7F && v < 0xA0) ? "\u{FFFD}" : u)
            }
        }
        return out
    }
}
