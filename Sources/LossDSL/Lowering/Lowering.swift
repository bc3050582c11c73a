/// Resolves names, checks arity and shapes, and builds the graph of a parsed `LossFile`.
/// Collects every error it can (one per statement) before giving up.
struct Lowering {
    let file: SourceFile
    let kind: LossKind
    var graph = Graph()
    var origins: SourceOrigins = [:]
    var diagnostics: [Diagnostic] = []
    var lets: [String: (node: NodeID, span: SourceSpan, used: Bool)] = [:]
    var letOrder: [String] = []
    /// Names whose definition failed: uses are not reported again.
    var poisoned: Set<String> = []
    var params: [ParamInfo] = []
    var paramUsed: [Bool] = []
    /// `curve` declarations by name, in declaration order.
    var curves: [String: (curve: Curve, used: Bool)] = [:]
    var curveOrder: [String] = []
    /// Replacement points for curves, by name (the parameter search sets them).
    var curveOverrides: [String: [CurvePoint]] = [:]
    /// The batch-level constructs of a `ranking` loss (see `RankingLowering.swift`).
    var ranking = RankingLoweringState()

    /// Call sugar: names that lower to several nodes (listed by `lossc ops`).
    static let sugar: [String: (arity: Int, summary: String)] = [
        "clamp": (3, "clamp(a, lo, hi) = min(max(a, lo), hi)"),
        "with_gradient": (2, "with_gradient(v, g): the value of v with the derivative of g (stop_gradient(v) + (g - stop_gradient(g)))"),
    ]

    static func lower(_ ast: LossFile, file: SourceFile, overrides: [String: Double]) throws(DiagnosticError) -> Formula {
        try lowerWithState(ast, file: file, overrides: overrides).formula
    }

    /// Lowers a file and also returns the lowering state (curves, ranking constructs).
    /// `allowRanking` admits `ranking` files, whose graph is read through `RankingFormula`.
    static func lowerWithState(_ ast: LossFile, file: SourceFile, overrides: [String: Double],
                               curves curveOverrides: [String: [CurvePoint]] = [:], allowRanking: Bool = false)
        throws(DiagnosticError) -> (formula: Formula, state: Lowering) {
        var l = Lowering(file: file, kind: ast.kind)
        l.curveOverrides = curveOverrides
        if ast.kind == .ranking, !allowRanking {
            throw DiagnosticError(file: file, diagnostics: [Diagnostic("ranking-kind", at: ast.kindSpan,
                "a ranking loss is computed over the whole batch, not per sample",
                hint: "load it with RankingFormula.parse; lossc eval, check, fmt and search-params accept ranking files")])
        }
        guard ast.kind.isSupported || ast.kind == .ranking else {
            throw DiagnosticError(file: file, diagnostics: [Diagnostic("unsupported-kind", at: ast.kindSpan,
                "the '\(ast.kind.rawValue)' kind is not supported by this version of lossc",
                hint: "supported kinds: \(LossKind.allCases.filter(\.isSupported).map(\.rawValue).joined(separator: ", "))")])
        }
        var root: NodeID?
        var resultSpan: SourceSpan?
        // One binding a statement at most: sized once, the table is not rehashed as it grows.
        l.lets.reserveCapacity(ast.statements.count)
        for s in ast.statements {
            if let rs = resultSpan {
                let (line, _) = file.location(of: rs.start)
                l.diagnostics.append(Diagnostic("after-return", at: s.keywordSpan, "statement after 'return' (line \(line))",
                                                hint: "'return' must be the last statement"))
                continue
            }
            switch s.body {
            case .param(let v):
                guard l.checkNewName(s.name, s.nameSpan) else { continue }
                l.params.append(ParamInfo(name: s.name, defaultValue: v, value: overrides[s.name] ?? v, span: s.nameSpan))
                l.paramUsed.append(false)
            case .curve(let points):
                guard l.checkNewName(s.name, s.nameSpan) else { continue }
                let span = s.keywordSpan.union(points.last?.span ?? s.nameSpan)
                let used = l.curveOverrides[s.name] ?? points
                let problems = Curve.validate(name: s.name, points: used, span: span)
                if problems.isEmpty {
                    l.curves[s.name] = (Curve(name: s.name, points: used, span: span), false)
                    l.curveOrder.append(s.name)
                } else {
                    l.diagnostics += problems
                    l.poisoned.insert(s.name)
                }
            case .binding(let e):
                guard l.checkNewName(s.name, s.nameSpan) else { continue }
                if let (n, _) = l.lowerExpr(e) {
                    l.lets[s.name] = (n, s.nameSpan, false)
                    l.letOrder.append(s.name)
                } else {
                    l.poisoned.insert(s.name)
                }
            case .result(let e):
                resultSpan = s.keywordSpan
                guard let (n, span) = l.lowerExpr(e) else { continue }
                if l.kind == .ranking {
                    if l.checkRankingResult(n, span) { root = n }
                } else if l.graph.shape(n) == .classVector {
                    l.diagnostics.append(Diagnostic("result-shape", at: span, "the loss is a class vector, not one value per sample",
                                                    hint: "reduce the class axis, e.g. 'dot(y, ...)' or 'sum(...)'"))
                } else {
                    root = n
                }
            }
        }
        for k in curveOverrides.keys.sorted() where l.curves[k] == nil && !l.poisoned.contains(k) {
            l.diagnostics.append(Diagnostic("unknown-curve", at: nil, "the file has no curve '\(k)'",
                hint: l.curveOrder.isEmpty ? "this loss has no curves" : "curves: \(l.curveOrder.joined(separator: ", "))"))
        }
        if l.kind == .ranking { l.validateRankingSets() }
        let unknown = overrides.keys.filter { k in !l.params.contains { $0.name == k } }.sorted()
        for k in unknown {
            let near = nearestNames(to: k, in: l.params.map(\.name))
            l.diagnostics.append(Diagnostic("unknown-param", at: nil, "--param \(k): the file has no param '\(k)'",
                hint: near.first.map { "did you mean '\($0)'?" }
                    ?? (l.params.isEmpty ? "this loss has no params" : "params: \(l.params.map(\.name).joined(separator: ", "))")))
        }
        if resultSpan == nil, !l.diagnostics.contains(where: { $0.severity == .error }) {
            l.diagnostics.append(Diagnostic("missing-return", at: SourceSpan(start: file.bytes.count, length: 0),
                                            "the file has no 'return' statement", hint: "end the file with 'return EXPR', the loss of one sample"))
        }
        let failed = l.diagnostics.contains { $0.severity == .error }
        for name in l.letOrder where !failed && l.lets[name]?.used == false {
            l.diagnostics.append(Diagnostic("unused-let", .warning, at: l.lets[name]!.span, "'\(truncate(name))' is never used"))
        }
        for (i, p) in l.params.enumerated() where !failed && !l.paramUsed[i] {
            l.diagnostics.append(Diagnostic("unused-param", .warning, at: p.span, "param '\(p.name)' is never used"))
        }
        for name in l.curveOrder where !failed && l.curves[name]?.used == false {
            l.diagnostics.append(Diagnostic("unused-curve", .warning, at: l.curves[name]!.curve.span, "curve '\(name)' is never used"))
        }
        guard let r = root, !l.diagnostics.contains(where: { $0.severity == .error }) else {
            throw DiagnosticError(file: file, diagnostics: l.diagnostics.sorted { ($0.span?.start ?? Int.max) < ($1.span?.start ?? Int.max) })
        }
        let formula = Formula(name: ast.name, kind: ast.kind, params: l.params, graph: l.graph, root: r,
                              origins: l.origins, file: file, warnings: l.diagnostics)
        return (formula, l)
    }

    mutating func checkNewName(_ name: String, _ span: SourceSpan) -> Bool {
        var clash: String?
        if let prev = lets[name] { clash = "'\(truncate(name))' is already defined at line \(file.location(of: prev.span.start).line)" }
        else if let p = params.first(where: { $0.name == name }) { clash = "'\(name)' is already a param (line \(file.location(of: p.span.start).line))" }
        else if kind.inputIndex(name) != nil { clash = "'\(name)' is an input of a \(kind.rawValue) loss" }
        else if let c = curves[name] { clash = "'\(name)' is already a curve (line \(file.location(of: c.curve.span.start).line))" }
        else if Op.byName[name] != nil || Lowering.sugar[name] != nil { clash = "'\(name)' is the name of an operator" }
        else if (["loss"] + Parser.keywords).contains(name) { clash = "'\(name)' is a keyword" }
        else if kind == .ranking, let what = Lowering.rankingReservedName(name) { clash = "'\(name)' is \(what) in a ranking loss" }
        if let clash {
            diagnostics.append(Diagnostic("duplicate-name", at: span, clash, hint: "choose another name"))
            return false
        }
        return true
    }

    mutating func node(_ op: Op, _ args: [NodeID], _ span: SourceSpan) -> NodeID {
        let n = graph.apply(op, args)
        if origins[n] == nil { origins[n] = span }
        return n
    }

    /// Lowers a postfix expression with an explicit value stack; nil after reporting an error.
    mutating func lowerExpr(_ e: Expr) -> (NodeID, SourceSpan)? {
        var stack: [(node: NodeID, span: SourceSpan, literal: Bool)] = []
        for item in e.items {
            switch item {
            case .number(let v, let s):
                let n = graph.constant(v)
                stack.append((n, s, true))
            case .name(let name, let s):
                guard let n = resolve(name, s) else { return nil }
                stack.append((n, s, false))
            case .negate(let s):
                let a = stack.removeLast()
                let span = s.union(a.span)
                if a.literal, let v = graph.constantValue(a.node) {
                    stack.append((graph.constant(-v), span, true))
                } else {
                    stack.append((node(.neg, [a.node], span), span, false))
                }
            case .binary(let op, let s):
                let b = stack.removeLast(), a = stack.removeLast()
                let span = a.span.union(b.span).union(s)
                if op == .pow, graph[b.node].op != .constant, graph[b.node].op != .param {
                    diagnostics.append(Diagnostic("pow-exponent", at: b.span, "the exponent of '^' must be a number or a param",
                                                  hint: "for a variable exponent write pow(a, b) or exp(b * log(a))"))
                    return nil
                }
                stack.append((node(op.op, [a.node, b.node], span), span, false))
            case .call(let name, let argc, let nameSpan, let close):
                let args = Array(stack.suffix(argc))
                stack.removeLast(argc)
                let span = nameSpan.union(close)
                guard let n = call(name, args.map { ($0.node, $0.span) }, nameSpan: nameSpan, span: span) else { return nil }
                stack.append((n, span, false))
            }
        }
        guard let top = stack.last else { return nil }
        return (top.node, e.span)
    }

    mutating func resolve(_ name: String, _ span: SourceSpan) -> NodeID? {
        if let i = lets.index(forKey: name) { lets.values[i].used = true; return lets.values[i].node }  // one hash, not two
        if poisoned.contains(name) { return nil }
        if let i = params.firstIndex(where: { $0.name == name }) { paramUsed[i] = true; return graph.param(i) }
        if kind == .ranking { return rankingResolve(name, span) }
        if let i = kind.inputIndex(name) {
            let n = graph.input(i, shape: kind.inputs[i].shape)
            if origins[n] == nil { origins[n] = span }
            return n
        }
        var hint: String
        let known = Array(lets.keys) + params.map(\.name) + kind.inputs.map(\.name)
        if let other = LossKind.allCases.first(where: { $0 != kind && $0.inputIndex(name) != nil }) {
            hint = "'\(name)' is an input of \(other.rawValue) losses; a \(kind.rawValue) loss has \(kind.inputs.map(\.name).joined(separator: ", "))"
        } else if let near = nearestNames(to: name, in: known).first {
            hint = "did you mean '\(near)'?"
        } else {
            hint = "the inputs of a \(kind.rawValue) loss are \(kind.inputs.map(\.name).joined(separator: ", "))"
        }
        if Op.byName[name] != nil { hint = "'\(name)' is an operator; call it: \(name)(...)" }
        if curves[name] != nil { hint = "'\(name)' is a curve; call it: \(name)(...)" }
        diagnostics.append(Diagnostic("unknown-name", at: span, "unknown name '\(truncate(name))'", hint: hint,
                                      fixIt: nearestNames(to: name, in: known).first))
        return nil
    }

    mutating func call(_ name: String, _ args: [(NodeID, SourceSpan)], nameSpan: SourceSpan, span: SourceSpan) -> NodeID? {
        if kind == .ranking, let handled = rankingCall(name, args, nameSpan: nameSpan, span: span) { return handled }
        if curves[name] != nil || poisoned.contains(name) {
            guard curves[name] != nil else { return nil }
            guard args.count == 1 else { return arityError(name, expected: 1, got: args.count, span) }
            curves[name]!.used = true
            let c = curves[name]!.curve
            var made: [NodeID] = []
            let n = graph.applyCurve(c, to: args[0].0) { made.append($0) }
            for m in made where origins[m] == nil { origins[m] = span }
            return n
        }
        if let s = Lowering.sugar[name] {
            guard args.count == s.arity else { return arityError(name, expected: s.arity, got: args.count, span) }
            if name == "with_gradient" {
                // The value of v, the derivative of g: g - stop_gradient(g) is exactly 0 for finite g.
                let v = args[0].0, g = args[1].0
                return node(.add, [node(.stopGradient, [v], span), node(.sub, [g, node(.stopGradient, [g], span)], span)], span)
            }
            // clamp(a, lo, hi), built as written (no reordering), so the derivative is 1 at both bounds.
            return node(.min, [node(.max, [args[0].0, args[1].0], span), args[2].0], span)
        }
        guard let op = Op.byName[name] else {
            let hint: String
            if let deap = Op.byDEAPName[name] {
                hint = "'\(name)' is the DEAP name; in a .loss file it is '\(deap.name)'"
            } else if name == "erf" || name == "erfc" || name == "gd" || name == "alf" {
                hint = "the search space's S-curves are 'scaled_\(name)' (R -> (0,1), value 1/2 and slope 1/4 at 0), not the textbook \(name)"
            } else if let what = Lowering.rankingOnlyFunction(name) {
                hint = "\(what) exists only in ranking losses ('loss NAME: ranking')"
            } else if let near = nearestNames(to: name, in: Array(Op.byName.keys) + Lowering.sugar.keys + curveOrder).first {
                hint = "did you mean '\(near)'?"
            } else {
                hint = "see the operator list in README (lossc --help shows it too)"
            }
            diagnostics.append(Diagnostic("unknown-function", at: nameSpan, "unknown function '\(truncate(name))'", hint: hint,
                                          fixIt: Op.byDEAPName[name]?.name))
            return nil
        }
        guard args.count == op.arity else { return arityError(name, expected: op.arity, got: args.count, span) }
        let nodes = args.map(\.0)
        switch op.info.shape {
        case .elementwise: break
        case .classMap, .classReduce:
            if !nodes.contains(where: { graph.shape($0) == .classVector }) {
                let hint = kind == .multiclass
                    ? "\(name) acts on the class axis: apply it to a class vector such as x or y"
                    : "a \(kind.rawValue) loss has no class axis; \(name == "softmax" ? "use sigmoid(x) for a per-element probability" : "write the product directly") or declare 'loss NAME: multiclass'"
                diagnostics.append(Diagnostic("no-class-axis", at: span, "\(name) needs a class axis, but its argument is one value per sample",
                                              hint: hint))
                return nil
            }
        }
        return node(op, nodes, span)
    }

    mutating func arityError(_ name: String, expected: Int, got: Int, _ span: SourceSpan) -> NodeID? {
        diagnostics.append(Diagnostic("arity", at: span,
            "\(name) takes \(expected) argument\(expected == 1 ? "" : "s"), but \(got) \(got == 1 ? "was" : "were") given",
            hint: Op.byName[name].map { "\(name): \($0.info.summary)" } ?? Lowering.sugar[name]?.summary))
        return nil
    }
}
