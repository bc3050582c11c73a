import Foundation
import LossDSL

/// `lossc plot FILE... -o out.svg`: curves of the loss and its gradient, as in loss papers.
enum PlotCommand {
    static let spec = CommandSpec(
        name: "plot", summary: "Plot loss and gradient curves to a self-contained SVG.",
        usage: "plot FILE... [-o OUT.svg] [--range LO,HI] [--w W,W…] [--classes C] [--family shift|scale] [--probability] [--log] [--title T]",
        options: [
            OptionSpec(name: "output", value: "OUT.svg", help: "Write the SVG here (default: stdout).", short: "o"),
            OptionSpec(name: "range", value: "LO,HI", help: "Logit range for binary/multiclass (default -8,8)."),
            OptionSpec(name: "w", value: "W,W,…", help: "IoU/quality values w to plot (binary, multiclass; default 1)."),
            OptionSpec(name: "classes", value: "C", help: "Number of classes for multiclass losses (default 5)."),
            OptionSpec(name: "family", value: "shift|scale", help: "Box family: shift the box toward the target, or grow it (default shift)."),
            OptionSpec(name: "probability", value: nil, help: "Binary: put sigmoid(x) on the x axis instead of x."),
            OptionSpec(name: "log", value: nil, help: "Log scale for the loss axis."),
            OptionSpec(name: "title", value: "T", help: "The figure's title."),
            OptionSpec(name: "param", value: "NAME=VALUE", help: "Override a param (applies to every file that has it).", repeatable: true),
        ],
        positionals: 1...16,
        details: "Example: lossc plot examples/bce.loss examples/focal.loss -o focal-vs-bce.svg")

    static func run(_ a: Arguments) throws -> ExitStatus {
        let overrides = try parseParams(a.values["param"] ?? [])
        var losses: [CompiledLoss] = []
        for path in a.positionals {
            var f = try loadFormula(path, params: [:])
            for i in f.params.indices { if let v = overrides[f.params[i].name] { f.params[i].value = v } }
            losses.append(CompiledLoss.compile(f))
        }
        let kinds = Set(losses.map(\.kind))
        guard kinds.count == 1, let kind = kinds.first else {
            throw UsageError("all files in one plot must have the same kind (got \(kinds.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        let range = try pair(a.value("range") ?? "-8,8", "--range")
        let ws = try (a.value("w") ?? "1").split(separator: ",").map { s -> Double in
            guard let v = CLINumber.parse(s), (0...1).contains(v) else { throw UsageError("--w: '\(s)' is not a number in [0, 1]") }
            return v
        }
        guard let classes = Int(a.value("classes") ?? "5"), classes >= 2, classes <= 1000 else {
            throw UsageError("--classes must be an integer in 2...1000")
        }
        var fig: SVGFigure
        switch kind {
        case .binary: fig = binary(losses, range: range, ws: ws, probability: a.has("probability"))
        case .multiclass: fig = multiclass(losses, range: range, ws: ws, classes: classes)
        case .box:
            let family = a.value("family") ?? "shift"
            guard family == "shift" || family == "scale" else { throw UsageError("--family is shift or scale") }
            fig = box(losses, family: family)
        case .ranking: throw UsageError("ranking losses cannot be plotted yet")
        }
        fig.panels[0].logY = a.has("log")
        if let t = a.value("title") { fig.title = t }
        var sink = OutputSink(path: a.value("output"))
        sink.write(fig.render())
        try sink.finish()
        return .success
    }

    static func pair(_ s: String, _ flag: String) throws -> (Double, Double) {
        let p = s.split(separator: ",", omittingEmptySubsequences: false).compactMap { CLINumber.parse($0) }
        guard p.count == 2, p[0] < p[1], p[0].isFinite, p[1].isFinite else { throw UsageError("\(flag) expects LO,HI with LO < HI") }
        // The sample spacing (HI - LO)/240 must be finite and resolvable: -1e308,1e308 overflows.
        guard (p[1] - p[0]).isFinite, abs(p[0]) <= 1e6, abs(p[1]) <= 1e6 else {
            throw UsageError("\(flag) \(s): plotted ranges are limited to [-1e6, 1e6]", hint: "e.g. --range -20,20")
        }
        return (p[0], p[1])
    }

    static let samples = 241

    /// One sample's loss and gradient (the evaluator is built once per curve family).
    static func sample(_ ev: ReferenceEvaluator<Double>, _ inputs: [InputValue<Double>]) -> (loss: Double, gradient: [Double]) {
        CompiledLoss.unpack(ev.evaluate(inputs), inputs: inputs)
    }

    static func binary(_ losses: [CompiledLoss], range: (Double, Double), ws: [Double], probability: Bool) -> SVGFigure {
        var lossPanel = SVGFigure.Panel(title: "loss", xLabel: probability ? "p = sigmoid(x)" : "logit x", yLabel: "loss")
        var gradPanel = SVGFigure.Panel(title: "gradient", xLabel: lossPanel.xLabel, yLabel: "d loss / d x")
        var color = 0
        for l in losses {
            let ev = l.evaluator(Double.self)
            for w in ws {
                for y in [1.0, 0.0] {
                    var pts: [(Double, Double)] = [], gpts: [(Double, Double)] = []
                    for k in 0..<samples {
                        let x = range.0 + (range.1 - range.0) * Double(k) / Double(samples - 1)
                        let r = sample(ev, [.scalar(x), .scalar(y), .scalar(w)])
                        let xv = probability ? 1 / (1 + exp(-x)) : x
                        pts.append((xv, r.loss)); gpts.append((xv, r.gradient[0]))
                    }
                    var name = "\(l.formula.name), \(y == 1 ? "positive" : "negative")"
                    if ws.count > 1 || w != 1 { name += ", w = \(formatNumber(w))" }
                    let c = SVGFigure.palette[color % SVGFigure.palette.count]
                    lossPanel.series.append(.init(name: name, color: c, dashed: y == 0, points: pts))
                    gradPanel.series.append(.init(name: name, color: c, dashed: y == 0, points: gpts))
                }
                color += 1
            }
        }
        return SVGFigure(title: losses.map(\.formula.name).joined(separator: " vs "), panels: [lossPanel, gradPanel])
    }

    static func multiclass(_ losses: [CompiledLoss], range: (Double, Double), ws: [Double], classes: Int) -> SVGFigure {
        var lossPanel = SVGFigure.Panel(title: "loss (\(classes) classes, other logits 0)", xLabel: "true-class logit", yLabel: "loss")
        var gradPanel = SVGFigure.Panel(title: "gradient", xLabel: "true-class logit", yLabel: "d loss / d true logit")
        var color = 0
        var y = [Double](repeating: 0, count: classes); y[0] = 1
        for l in losses {
            let ev = l.evaluator(Double.self)
            for w in ws {
                var pts: [(Double, Double)] = [], gpts: [(Double, Double)] = []
                for k in 0..<samples {
                    let t = range.0 + (range.1 - range.0) * Double(k) / Double(samples - 1)
                    var x = [Double](repeating: 0, count: classes); x[0] = t
                    let r = sample(ev, [.vector(x), .vector(y), .scalar(w)])
                    pts.append((t, r.loss)); gpts.append((t, r.gradient[0]))
                }
                let name = l.formula.name + (ws.count > 1 || w != 1 ? ", w = \(formatNumber(w))" : "")
                let c = SVGFigure.palette[color % SVGFigure.palette.count]
                color += 1
                lossPanel.series.append(.init(name: name, color: c, points: pts))
                gradPanel.series.append(.init(name: name, color: c, points: gpts))
            }
        }
        return SVGFigure(title: losses.map(\.formula.name).joined(separator: " vs "), panels: [lossPanel, gradPanel])
    }

    /// Box losses along a family of predicted boxes against a 100 x 100 target at the origin:
    /// shifted right by s px (s = 100: just touching; the plot stops short of s = 0, where every
    /// IoU loss has a kink) or scaled by k from its top-left corner (IoU = k^2).
    static func box(_ losses: [CompiledLoss], family: String) -> SVGFigure {
        let shift = family == "shift"
        let xLabel = shift ? "shift s (px): predicted box [s, 0, s+100, 100]" : "IoU = k² (predicted box [0, 0, 100·k, 100·k], k ≤ 1)"
        var lossPanel = SVGFigure.Panel(title: "loss (\(family) family, 100 x 100 target)", xLabel: xLabel, yLabel: "loss")
        var gradPanel = SVGFigure.Panel(title: "gradient", xLabel: xLabel, yLabel: shift ? "d loss / d s" : "d loss / d k")
        let target = [0.0, 0, 100, 100]
        for (n, l) in losses.enumerated() {
            let ev = l.evaluator(Double.self)
            var pts: [(Double, Double)] = [], gpts: [(Double, Double)] = []
            for k in 0..<samples {
                let t = Double(k) / Double(samples - 1)
                let pred: [Double], xv: Double
                if shift {
                    let s = 0.5 + 139.5 * t
                    pred = [s, 0, s + 100, 100]
                    xv = s
                } else {
                    let kk = 0.05 + 0.94 * t
                    pred = [0, 0, 100 * kk, 100 * kk]
                    xv = kk * kk
                }
                let inputs: [InputValue<Double>] = [.scalar(0), .scalar(0), .scalar(0)] + (pred + target).map { .scalar($0) }
                let r = sample(ev, inputs)
                // Directional derivative along the family.
                let g = shift ? r.gradient[0] + r.gradient[2] : 100 * (r.gradient[2] + r.gradient[3])
                pts.append((xv, r.loss)); gpts.append((xv, g))
            }
            let c = SVGFigure.palette[n % SVGFigure.palette.count]
            lossPanel.series.append(.init(name: l.formula.name, color: c, dashed: n % 2 == 1, points: pts))
            gradPanel.series.append(.init(name: l.formula.name, color: c, dashed: n % 2 == 1, points: gpts))
        }
        return SVGFigure(title: losses.map(\.formula.name).joined(separator: " vs "), panels: [lossPanel, gradPanel])
    }
}
