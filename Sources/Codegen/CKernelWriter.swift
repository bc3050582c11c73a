import LossDSL

/// Writes the C functions of one loss: per precision, the kernel (params, loop-invariant
/// nodes, the loop over blocks or rows, the lane-explicit sum) and the static functions it
/// calls: one per version (value only or value + gradient; general or default-exponent).
///
/// - `binary` / `box`: a block function runs one straight-line statement per node over up to
///   `LOSSC_BLOCK` elements. Inputs and outputs are `restrict` pointers and every operator
///   is branch-free, so the loop vectorizes; the per-element loss always goes to a buffer (the
///   caller's or a stack block), so the loop has no conditional stores.
/// - `multiclass`: a row function follows the `RowProgram` (passes over the class axis).
struct CKernelWriter {
    let interface: CInterface
    var plan: KernelPlan { interface.plan }
    var graph: Graph { plan.graph }
    var prefix: String { interface.prefix }

    /// One version of the per-element (or per-row) code.
    struct Version {
        let gradient: Bool
        let fast: Bool
        var suffix: String { (gradient ? "vg" : "v") + (fast ? "f" : "") }
    }

    var versions: [Version] {
        var v: [Version] = []
        for g in [false, true] {
            v.append(Version(gradient: g, fast: false))
            if plan.hasFastPath { v.append(Version(gradient: g, fast: true)) }
        }
        return v
    }

    func roots(_ v: Version) -> [NodeID] { v.gradient ? plan.allRoots : plan.valueRoots }

    /// All functions of one precision.
    func functions(_ p: CPrecision) -> String {
        var s = ""
        for v in versions {
            s += plan.kind == .multiclass ? rowFunction(p, v) : blockFunction(p, v)
        }
        s += kernel(p)
        return s
    }

    func helperName(_ p: CPrecision, _ v: Version) -> String {
        "lossc_\(plan.kind == .multiclass ? "row" : "blk")_\(prefix)_\(p.rawValue)_\(v.suffix)"
    }

    // MARK: shared pieces

    /// The nodes a version evaluates per element (or per row, in any pass).
    func nodesUsed(_ v: Version) -> [NodeID] {
        let roots = roots(v)
        guard plan.kind == .multiclass else { return plan.elementNodes(roots) }
        let program = RowProgram(plan: plan, roots: roots)
        var used = program.scalarsBefore + program.outputNodes
        for pass in program.passes {
            used += pass.vectorNodes + pass.scalarsAfter
            for stat in pass.stats {
                switch stat { case .max(let a), .sumExp(let a): used.append(a); case .reduce(let r): used.append(r) }
            }
        }
        return used
    }

    /// The invariants a version reads from `inv` (its nodes' arguments and invariant roots).
    func invariantsRead(_ v: Version) -> [NodeID] {
        var read = Set(plan.invariantsRead(by: nodesUsed(v), fast: v.fast))
        for r in roots(v) where plan.isInvariant[Int(r)] && graph[r].op != .constant { read.insert(r) }
        return plan.invariants.filter { read.contains($0) }
    }

    /// `const T t<id> = inv[k];` for the invariants the version reads.
    func loadInvariants(_ p: CPrecision, _ v: Version) -> String {
        let read = Set(invariantsRead(v))
        var s = ""
        for (k, id) in plan.invariants.enumerated() where read.contains(id) {
            s += "    const \(p.cType) t\(id) = inv[\(k)];\n"
        }
        return s
    }

    /// The statement for an elementwise node (inputs are loaded by the caller).
    func statement(_ p: CPrecision, _ id: NodeID, fast: Bool, indent: String) -> String {
        let e = CExpression(plan: plan, precision: p, fast: fast)
        return "\(indent)const \(p.cType) t\(id) = \(e.rhs(id));\n"
    }

    /// Where input `index` of the kind is read for element `j`.
    func inputRead(_ index: Int, element j: String) -> String {
        for d in interface.dataPointers {
            if let k = d.inputs.firstIndex(of: index) {
                return d.inputs.count == 1 ? "\(d.name)[\(j)]" : "\(d.name)[4 * \(j) + \(k)]"
            }
        }
        return "0"
    }

    /// The data pointers a set of roots reads.
    func pointersRead(_ roots: [NodeID]) -> [String] {
        let inputs = Set(plan.inputsRead(roots))
        return interface.dataPointers.filter { !inputs.isDisjoint(with: $0.inputs) }.map(\.name)
    }

    // MARK: binary and box

    func blockFunction(_ p: CPrecision, _ v: Version) -> String {
        let T = p.cType, R = "LOSSC_RESTRICT"
        let roots = roots(v)
        let nodes = plan.elementNodes(roots)
        let load = loadInvariants(p, v)
        var params = ["size_t m"] + pointersRead(roots).map { "const \(T) *\(R) \($0)" }
        if !invariantsRead(v).isEmpty { params.append("const \(T) *\(R) inv") }
        params.append("\(T) *\(R) lo")
        if v.gradient { params.append("\(T) *\(R) g") }
        var s = "static void \(helperName(p, v))(\(params.joined(separator: ", ")))\n{\n"
        s += load + "    size_t j;\n    for (j = 0; j < m; j++) {\n"
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        for id in nodes {
            let n = graph[id]
            if n.op == .input {
                s += "        const \(T) t\(id) = \(inputRead(Int(n.index), element: "j"));\n"
            } else {
                s += statement(p, id, fast: v.fast, indent: "        ")
            }
        }
        s += "        lo[j] = \(e.name(plan.loss.value));\n"
        if v.gradient {
            let grads = plan.loss.gradient
            for (c, r) in grads.enumerated() {
                s += grads.count == 1 ? "        g[j] = \(e.name(r));\n" : "        g[4 * j + \(c)] = \(e.name(r));\n"
            }
        }
        return s + "    }\n}\n\n"
    }

    // MARK: multiclass

    func rowFunction(_ p: CPrecision, _ v: Version) -> String {
        let T = p.cType, R = "LOSSC_RESTRICT"
        let roots = roots(v)
        let program = RowProgram(plan: plan, roots: roots)
        let load = loadInvariants(p, v)
        let read = pointersRead(roots)
        var params = ["size_t C"] + read.filter { $0 != "w" }.map { "const \(T) *\(R) \($0)" }
        if read.contains("w") { params.append("\(T) w") }
        if !invariantsRead(v).isEmpty { params.append("const \(T) *\(R) inv") }
        if v.gradient { params.append("\(T) *\(R) g") }
        var s = "static \(T) \(helperName(p, v))(\(params.joined(separator: ", ")))\n{\n" + load
        let e = CExpression(plan: plan, precision: p, fast: v.fast)
        func scalars(_ ids: [NodeID]) {
            for id in ids {
                if graph[id].op == .input { s += "    const \(T) t\(id) = w;\n" } else { s += statement(p, id, fast: v.fast, indent: "    ") }
            }
        }
        scalars(program.scalarsBefore)
        for pass in program.passes {
            s += classPass(p, pass, fast: v.fast)
            scalars(pass.scalarsAfter)
        }
        if v.gradient, let r = plan.loss.gradient.first {
            s += "    {\n        size_t k;\n        for (k = 0; k < C; k++) {\n"
            s += vectorStatements(p, program.outputNodes, index: "k", fast: v.fast, indent: "            ")
            s += "            g[k] = \(e.name(r));\n        }\n    }\n"
        }
        return s + "    return \(e.name(plan.loss.value));\n}\n\n"
    }

    /// Per-class statements for class-vector nodes at class `index`.
    func vectorStatements(_ p: CPrecision, _ ids: [NodeID], index: String, fast: Bool, indent: String) -> String {
        let T = p.cType, f = p.helperSuffix
        let e = CExpression(plan: plan, precision: p, fast: fast)
        var s = ""
        for id in ids {
            let n = graph[id]
            switch n.op {
            case .input: s += "\(indent)const \(T) t\(id) = \(n.index == 0 ? "x" : "y")[\(index)];\n"
            case .softmax:
                let a = n.args[0]
                s += "\(indent)const \(T) d\(id) = \(e.name(a)) - m\(a);\n"
                s += "\(indent)const \(T) t\(id) = lossc_exp\(f)(d\(id)) / s\(a);\n"
            case .logSoftmax:
                let a = n.args[0]
                s += "\(indent)const \(T) d\(id) = \(e.name(a)) - m\(a);\n"
                s += "\(indent)const \(T) t\(id) = d\(id) - l\(a);\n"
            default: s += statement(p, id, fast: fast, indent: indent)
            }
        }
        return s
    }

    /// One pass over the classes, in chunks of LOSSC_BLOCK: the per-class terms of each
    /// statistic go to a chunk buffer, which the lane helpers fold into 8 accumulators.
    func classPass(_ p: CPrecision, _ pass: RowProgram.Pass, fast: Bool) -> String {
        let T = p.cType, f = p.helperSuffix
        let e = CExpression(plan: plan, precision: p, fast: fast)
        var s = "", terms = "", folds = "", finish = ""
        for (k, stat) in pass.stats.enumerated() {
            switch stat {
            case .max(let a):
                let neg = CLiteral.c(-.infinity, p)
                s += "    \(T) a\(k)_m\(a)[8] = { \(Array(repeating: neg, count: 8).joined(separator: ", ")) };\n"
                terms += "            b\(k)[j] = \(e.name(a));\n"
                folds += "            lossc_lanes_max\(f)(a\(k)_m\(a), b\(k), mm);\n"
                finish += "    const \(T) m\(a) = lossc_lanes_maxof\(f)(a\(k)_m\(a));\n"
            case .sumExp(let a):
                s += "    \(T) a\(k)_s\(a)[8] = { \(CLiteral.c(0, p)) };\n"
                terms += "            const \(T) q\(k) = \(e.name(a)) - m\(a);\n"
                terms += "            b\(k)[j] = lossc_exp\(f)(q\(k));\n"
                folds += "            lossc_lanes_add\(f)(a\(k)_s\(a), b\(k), mm);\n"
                finish += "    const \(T) s\(a) = lossc_lanes_total\(f)(a\(k)_s\(a));\n"
            case .reduce(let r):
                let args = graph[r].args
                s += "    \(T) a\(k)_r\(r)[8] = { \(CLiteral.c(0, p)) };\n"
                terms += graph[r].op == .dot
                    ? "            b\(k)[j] = \(e.name(args[0])) * \(e.name(args[1]));\n"
                    : "            b\(k)[j] = \(e.name(args[0]));\n"
                folds += "            lossc_lanes_add\(f)(a\(k)_r\(r), b\(k), mm);\n"
                finish += "    const \(T) t\(r) = lossc_lanes_total\(f)(a\(k)_r\(r));\n"
            }
        }
        s += "    {\n"
        for k in pass.stats.indices { s += "        \(T) b\(k)[LOSSC_BLOCK];\n" }
        s += "        size_t k0, j;\n        for (k0 = 0; k0 < C; k0 += LOSSC_BLOCK) {\n"
        s += "            const size_t mm = C - k0 < LOSSC_BLOCK ? C - k0 : LOSSC_BLOCK;\n"
        s += "            for (j = 0; j < mm; j++) {\n"
        s += vectorStatements(p, pass.vectorNodes, index: "k0 + j", fast: fast, indent: "                ")
        s += terms.split(separator: "\n").map { "    " + $0 + "\n" }.joined()
        for a in pass.logSums { finish += "    const \(T) l\(a) = lossc_log\(f)(s\(a));\n" }
        s += "            }\n" + folds + "        }\n    }\n" + finish
        return s
    }
}
