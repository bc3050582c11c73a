import LossDSL

extension CKernelWriter {
    /// The exported kernel of one precision and its `_mean_` twin: resolve params, compute the
    /// loop-invariant nodes once, pick the version (gradient wanted? default exponents?), run
    /// it over blocks (or rows), and sum the per-sample losses in 16 double lanes.
    func kernel(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix
        let all = plan.allRoots
        var s = "double \(interface.kernelName(p))(\(interface.parameters(p)))\n{\n"
        s += preamble(p)
        let readByAny = Set(pointersRead(all))
        for d in interface.dataPointers where !readByAny.contains(d.name) { s += "    (void)\(d.name);\n" }
        s += "    double acc[16] = { 0 };\n"
        let grad = interface.gradientPointer
        if plan.kind == .multiclass {
            s += "    size_t r;\n    for (r = 0; r < n; r++) {\n        \(T) v;\n"
            s += dispatch(p, indent: "        ") { v in
                var args = ["classes"]
                for name in pointersRead(roots(v)) {
                    args.append(name == "w" ? "w[r]" : "\(name) + r * classes")
                }
                if !invariantsRead(v).isEmpty { args.append("inv") }
                if v.gradient { args.append("\(grad) + r * classes") }
                return "v = \(helperName(p, v))(\(args.joined(separator: ", ")));"
            }
            s += "        if (loss) loss[r] = v;\n        acc[r & 15] += (double)v;\n    }\n"
        } else {
            let stride = plan.kind == .box ? "4 * i" : "i"
            s += "    \(T) lbuf[LOSSC_BLOCK];\n    size_t i;\n"
            s += "    for (i = 0; i < n; i += LOSSC_BLOCK) {\n"
            s += "        const size_t m = n - i < LOSSC_BLOCK ? n - i : LOSSC_BLOCK;\n"
            s += "        \(T) *LOSSC_RESTRICT lo = loss ? loss + i : lbuf;\n"
            s += dispatch(p, indent: "        ") { v in
                var args = ["m"] + pointersRead(roots(v)).map { "\($0) + \(stride)" }
                if !invariantsRead(v).isEmpty { args.append("inv") }
                args.append("lo")
                if v.gradient { args.append("\(grad) + \(stride)") }
                return "\(helperName(p, v))(\(args.joined(separator: ", ")));"
            }
            s += "        lossc_lanes_addd\(f)(acc, lo, m);\n    }\n"
        }
        s += "    return lossc_lanes_total(acc);\n}\n\n"
        s += "double \(interface.meanName(p))(\(interface.parameters(p)))\n{\n"
        s += "    const double sum = \(interface.kernelName(p))(\(interface.argumentNames));\n"
        s += "    return n ? sum / (double)n : 0.0;\n}\n\n"
        return s
    }

    var hasInvariants: Bool { !plan.invariants.isEmpty }

    /// Params resolved (NULL means the emitted values), invariants computed, `inv` filled,
    /// and `fast` set when every guarded exponent has its default integer value.
    func preamble(_ p: CPrecision) -> String {
        let T = p.cType
        var s = ""
        let usesParams = plan.invariants.contains { graph[$0].op == .param }
        if usesParams {
            s += "    const \(interface.paramsType) *p = params ? params : &lossc_defaults_\(prefix);\n"
        } else {
            s += "    (void)params;\n"
        }
        let e = CExpression(plan: plan, precision: p, fast: false)
        for id in plan.invariants {
            let n = graph[id]
            if n.op == .param {
                s += "    const \(T) t\(id) = (\(T))p->\(interface.paramFields[Int(n.index)]);\n"
            } else {
                s += "    const \(T) t\(id) = \(e.rhs(id));\n"
            }
        }
        if hasInvariants {
            s += "    const \(T) inv[\(plan.invariants.count)] = { "
            s += plan.invariants.map { "t\($0)" }.joined(separator: ", ") + " };\n"
        }
        if plan.hasFastPath {
            let tests = plan.powGuards.map { "t\($0.node) == \(CLiteral.c(Double($0.value), p))" }
            s += "    const int fast = " + tests.joined(separator: " && ") + ";\n"
        }
        return s
    }

    /// Calls the version that fits: gradient wanted or not, default exponents or not, row
    /// short enough for the cached version or not.
    func dispatch(_ p: CPrecision, indent: String, call: (Version) -> String) -> String {
        var conditions: [(String, WritableKeyPath<Version, Bool>)] = [("\(interface.gradientPointer)", \.gradient)]
        if plan.hasFastPath { conditions.append(("fast", \.fast)) }
        if plan.kind == .multiclass { conditions.append(("classes <= LOSSC_ROW", \.cached)) }
        func nest(_ level: Int, _ v: Version, _ pad: String) -> String {
            if level == conditions.count { return "\(pad)\(call(v))\n" }
            var yes = v, no = v
            yes[keyPath: conditions[level].1] = true
            no[keyPath: conditions[level].1] = false
            return "\(pad)if (\(conditions[level].0)) {\n" + nest(level + 1, yes, pad + "    ")
                + "\(pad)} else {\n" + nest(level + 1, no, pad + "    ") + "\(pad)}\n"
        }
        return nest(0, Version(gradient: false, fast: false), indent)
    }
}
