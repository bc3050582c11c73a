import LossDSL

/// The row function of a `multiclass` loss: the `RowProgram`'s passes as C loops.
///
/// Two layouts of the same passes:
/// - *cached* (rows of at most LOSSC_ROW classes): each pass is one loop over the row; the
///   per-class terms of its statistics go to row buffers on the stack, and the terms of
///   `sum exp(a_k - max)` stay there (`e<a>`), so a later `softmax(a)` reads `e<a>[k] / s`
///   instead of calling exp again;
/// - *streaming* (longer rows): the same loops in chunks of LOSSC_BLOCK classes, recomputing.
/// A statistic over an input itself (`max(x)`, `sum(y)`) folds the input row directly.
extension CKernelWriter {
    func rowFunction(_ p: CPrecision, _ v: Version) -> String {
        let row = rowBody(p, v)
        return "static \(isa.attribute)\(p.cType) \(helperName(p, v))(\(row.parameters.joined(separator: ", ")))\n{\n"
            + row.body + "    return \(row.result);\n}\n\n"
    }

    /// A row function's parameters, its body (everything before the `return`, 4-space
    /// indented: top-level statements and `{ ... }` blocks) and the expression it returns.
    func rowBody(_ p: CPrecision, _ v: Version) -> (parameters: [String], body: String, result: String) {
        let T = p.cType, R = "LOSSC_RESTRICT"
        let roots = roots(v)
        let program = RowProgram(plan: plan, roots: roots)
        let read = pointersRead(roots)
        var params = ["size_t C"] + read.filter { $0 != "w" }.map { "const \(T) *\(R) \($0)" }
        if read.contains("w") { params.append("\(T) w") }
        if !invariantsRead(v).isEmpty { params.append("const \(T) *\(R) inv") }
        if v.gradient { params.append("\(T) *\(R) g") }
        var s = loadInvariants(p, v)
        if v.cached {
            for pass in program.passes {
                for case .sumExp(let a) in pass.stats { s += "    \(T) e\(a)[LOSSC_ROW];\n" }
            }
        }
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        func scalars(_ ids: [NodeID]) {
            for id in ids {
                if graph[id].op == .input { s += "    const \(T) t\(id) = w;\n" } else { s += statement(p, id, fast: v.fast, indent: "    ") }
            }
        }
        scalars(program.scalarsBefore)
        let gradientRoot = v.gradient ? plan.loss.gradient.first : nil
        for (index, pass) in program.passes.enumerated() {
            let output = index == program.outputPass ? gradientRoot : nil
            s += classPass(p, pass, outputRoot: output, v)
            scalars(pass.scalarsAfter)
        }
        if let r = gradientRoot, program.outputPass == nil {
            s += "    {\n        size_t k;\n        for (k = 0; k < C; k++) {\n"
            let nodes = RowProgram.vectorClosure(plan, [r], cachedSoftmax: v.cached)
            s += vectorStatements(p, nodes, index: "k", v, indent: "            ")
            s += "            g[k] = \(e.name(r));\n        }\n    }\n"
        }
        return (params, s, e.name(plan.loss.value))
    }

    /// Per-class statements for class-vector nodes at class `index`.
    func vectorStatements(_ p: CPrecision, _ ids: [NodeID], index: String, _ v: Version, indent: String) -> String {
        let T = p.cType, f = p.helperSuffix
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        var s = ""
        for id in ids {
            let n = graph[id]
            switch n.op {
            case .input: s += "\(indent)const \(T) t\(id) = \(n.index == 0 ? "x" : "y")[\(index)];\n"
            case .softmax:
                let a = n.args[0]
                if v.cached {
                    s += "\(indent)const \(T) t\(id) = e\(a)[\(index)] / s\(a);\n"
                } else {
                    s += "\(indent)const \(T) d\(id) = \(e.name(a)) - m\(a);\n"
                    s += "\(indent)const \(T) t\(id) = lossc_exp\(f)(d\(id)) / s\(a);\n"
                }
            case .logSoftmax:
                let a = n.args[0]
                s += "\(indent)const \(T) d\(id) = \(e.name(a)) - m\(a);\n"
                s += "\(indent)const \(T) t\(id) = d\(id) - l\(a);\n"
            default: s += statement(p, id, fast: v.fast, indent: indent)
            }
        }
        return s
    }

    /// The input row a class-vector node reads directly, if it is an input (`x` or `y`).
    func inputRow(_ id: NodeID) -> String? {
        let n = graph[id]
        guard n.op == .input, graph.shapes[Int(id)] == .classVector else { return nil }
        return n.index == 0 ? "x" : "y"
    }

    /// One pass over the classes: the loop computing the terms of its statistics (and, with
    /// `outputRoot`, the gradient), then the lane folds of the statistics, then their values.
    func classPass(_ p: CPrecision, _ pass: RowProgram.Pass, outputRoot: NodeID?, _ v: Version) -> String {
        let T = p.cType, f = p.helperSuffix
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        let index = v.cached ? "k" : "k0 + j", slot = v.cached ? "k" : "j"
        let count = v.cached ? "C" : "mm", length = v.cached ? "LOSSC_ROW" : "LOSSC_BLOCK"
        var s = "", buffers = "", terms = "", finish = ""
        var folds: [(source: String, call: String)] = []
        var operands: [NodeID] = []
        // Where a statistic's terms are folded from: an input row, a cache, or a buffer k.
        func source(_ k: Int, direct: NodeID?) -> String {
            if let d = direct, let row = inputRow(d) { return v.cached ? row : "\(row) + k0" }
            buffers += "        \(T) b\(k)[\(length)];\n"
            return "b\(k)"
        }
        for (k, stat) in pass.stats.enumerated() {
            switch stat {
            case .max(let a):
                let acc = "a\(k)_m\(a)", neg = CLiteral.c(-.infinity, p)
                s += "    \(T) \(acc)[16] = { \(Array(repeating: neg, count: 16).joined(separator: ", ")) };\n"
                let src = source(k, direct: a)
                if src.hasPrefix("b") { terms += "b\(k)[\(slot)] = \(e.name(a));\n"; operands.append(a) }
                folds.append((src, "lossc_lanes_max\(f)(\(acc), "))
                finish += "    const \(T) m\(a) = lossc_lanes_maxof\(f)(\(acc));\n"
            case .sumExp(let a):
                let acc = "a\(k)_s\(a)"
                s += "    \(T) \(acc)[16] = { \(CLiteral.c(0, p)) };\n"
                let src = v.cached ? "e\(a)" : source(k, direct: nil)
                terms += "const \(T) q\(k) = \(e.name(a)) - m\(a);\n\(src)[\(slot)] = lossc_exp\(f)(q\(k));\n"
                operands.append(a)
                folds.append((src, "lossc_lanes_add\(f)(\(acc), "))
                finish += "    const \(T) s\(a) = lossc_lanes_total\(f)(\(acc));\n"
            case .reduce(let r):
                let args = graph[r].args, acc = "a\(k)_r\(r)"
                s += "    \(T) \(acc)[16] = { \(CLiteral.c(0, p)) };\n"
                let src = source(k, direct: graph[r].op == .sum ? args[0] : nil)
                if src.hasPrefix("b") {
                    terms += graph[r].op == .dot ? "b\(k)[\(slot)] = \(e.name(args[0])) * \(e.name(args[1]));\n"
                                                 : "b\(k)[\(slot)] = \(e.name(args[0]));\n"
                    operands += args
                }
                folds.append((src, "lossc_lanes_add\(f)(\(acc), "))
                finish += "    const \(T) t\(r) = lossc_lanes_total\(f)(\(acc));\n"
            }
        }
        for a in pass.logSums { finish += "    const \(T) l\(a) = lossc_log\(f)(s\(a));\n" }
        var nodes = RowProgram.vectorClosure(plan, operands, cachedSoftmax: v.cached)
        if let r = outputRoot {
            nodes = Set(nodes).union(RowProgram.vectorClosure(plan, [r], cachedSoftmax: v.cached)).sorted()
        }
        let loopNeeded = !terms.isEmpty || outputRoot != nil
        let pad = v.cached ? "        " : "            "
        var body = ""
        if loopNeeded {
            body += "\(pad)for (\(v.cached ? "k" : "j") = 0; \(v.cached ? "k < C; k++" : "j < mm; j++")) {\n"
            body += vectorStatements(p, nodes, index: index, v, indent: pad + "    ")
            body += terms.split(separator: "\n").map { pad + "    " + $0 + "\n" }.joined()
            if let r = outputRoot { body += "\(pad)    g[\(index)] = \(e.name(r));\n" }
            body += "\(pad)}\n"
        }
        // The folds: lane l of each statistic takes terms l, l + 16, …
        for (source, call) in folds {
            // buffers (b<k>, e<a>) go through the non-const variants (see the prelude)
            let c = source.hasPrefix("b") || source.hasPrefix("e") ? call.replacingOccurrences(of: "\(f)(", with: "b\(f)(") : call
            body += "\(pad)\(c)\(source), \(count));\n"
        }
        s += "    {\n" + buffers
        if v.cached {
            s += (loopNeeded ? "        size_t k;\n" : "") + body
        } else {
            s += "        size_t k0\(loopNeeded ? ", j" : "");\n        for (k0 = 0; k0 < C; k0 += LOSSC_BLOCK) {\n"
            s += "            const size_t mm = C - k0 < LOSSC_BLOCK ? C - k0 : LOSSC_BLOCK;\n" + body + "        }\n"
        }
        return s + "    }\n" + finish
    }
}
