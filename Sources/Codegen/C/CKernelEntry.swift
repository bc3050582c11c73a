import LossDSL

extension CKernelWriter {
    /// The name of the job struct: everything a chunk needs, filled by the kernel.
    func jobType(_ p: CPrecision) -> String { "struct lossc_job_\(prefix)_\(p.rawValue)" }
    func chunkName(_ p: CPrecision) -> String { "lossc_chunk_\(prefix)_\(p.rawValue)" }
    /// Some version reads the loop invariants (the kernel passes them as `inv`).
    var readsInvariants: Bool { versions.contains { !invariantsRead($0).isEmpty } }

    /// The job struct of one precision: the data pointers the loss reads, the outputs, the
    /// row width, the invariants and the default-exponent flag.
    func jobStruct(_ p: CPrecision) -> String {
        let T = p.cType
        var s = "\(jobType(p)) {\n"
        if plan.kind == .multiclass { s += "    size_t classes;\n    const int64_t *labels;\n" }
        for name in pointersRead(plan.allRoots) { s += "    const \(T) *\(name);\n" }
        s += "    \(T) *loss;\n    \(T) *\(interface.gradientPointer);\n"
        if readsInvariants { s += "    \(T) inv[\(plan.invariants.count)];\n" }
        if plan.hasFastPath { s += "    int fast;\n" }
        return s + "};\n\n"
    }

    /// The sum over samples [b, e) of one ISA path: the loop over blocks (or rows) calling
    /// the version that fits, the per-sample losses summed in 16 double lanes.
    func chunkFunction(_ p: CPrecision) -> String {
        let T = p.cType, f = p.helperSuffix, R = "LOSSC_RESTRICT"
        let grad = interface.gradientPointer
        var s = "static \(isa.attribute)double \(chunkName(p))\(isa.suffix)(const void *job_, size_t b, size_t e)\n{\n"
        s += "    const \(jobType(p)) *job = (const \(jobType(p)) *)job_;\n"
        if plan.kind == .multiclass { s += "    const size_t classes = job->classes;\n" }
        for name in pointersRead(plan.allRoots) { s += "    const \(T) *\(R) \(name) = job->\(name);\n" }
        if readsInvariants { s += "    const \(T) *\(R) inv = job->inv;\n" }
        if plan.hasFastPath { s += "    const int fast = job->fast;\n" }
        s += "    \(T) *\(R) loss = job->loss;\n    \(T) *\(R) \(grad) = job->\(grad);\n"
        s += "    double acc[16] = { 0 };\n"
        if plan.kind == .multiclass {
            // With labels (the `_labels_` kernel), each row's y is a one-hot row kept in `onehot`:
            // set before the row's call, cleared after, so the row functions are the same.
            s += "    const int64_t *\(R) labels = job->labels;\n"
            s += "    \(T) onehot_row[LOSSC_ROW];\n    \(T) *onehot = onehot_row;\n    size_t r, k;\n"
            let groups = hasRowGroups(p)
            if groups {
                s += groupGuard + "    \(T) onehot_group[\(Self.groupRows)][LOSSC_GROUP_ROW];\n"
                s += "    const int grouped = classes <= LOSSC_GROUP_ROW;\n"
                s += "    (void)onehot_group;  /* (unread by a loss that does not read y) */\n#endif\n"
            }
            s += "    if (labels) {\n"
            s += "        if (classes > LOSSC_ROW && !(onehot = (\(T) *)malloc(classes * sizeof *onehot))) return NAN;\n"
            s += "        for (k = 0; k < classes; k++) onehot[k] = 0;\n"
            if groups {
                s += groupGuard
                s += "        if (grouped) for (r = 0; r < \(Self.groupRows); r++) for (k = 0; k < classes; k++) onehot_group[r][k] = 0;\n#endif\n"
            }
            s += "    }\n"
            s += "    for (r = b; r < e; r++) {\n        \(T) v;\n"
            s += "        const int64_t c = labels ? labels[r] : 0;\n"
            if groups { s += groupedRows(p) }
            s += "        if (labels && (c < 0 || c > (int64_t)classes)) {\n"
            s += "            /* ignored (negative): 0; beyond classes: NaN */\n"
            s += "            v = c < 0 ? (\(T))0 : (\(T))NAN;\n"
            s += "            if (\(grad)) for (k = 0; k < classes; k++) \(grad)[r * classes + k] = v;\n"
            s += "        } else {\n"
            s += "            if (labels && c < (int64_t)classes) onehot[c] = 1;\n"
            s += dispatch(p, indent: "            ") { v in
                var args = ["classes"] + rowArguments(v, row: "r", onehot: "onehot")
                if !invariantsRead(v).isEmpty { args.append("inv") }
                if v.gradient { args.append("\(grad) + r * classes") }
                return "v = \(helperName(p, v))(\(args.joined(separator: ", ")));"
            }
            s += "            if (labels && c < (int64_t)classes) onehot[c] = 0;\n        }\n"
            s += "        if (loss) loss[r] = v;\n        acc[(r - b) & 15] += (double)v;\n    }\n"
            s += "    if (onehot != onehot_row) free(onehot);\n"
        } else {
            let stride = plan.kind == .box ? "4 * i" : "i"
            s += "    \(T) lbuf[LOSSC_BLOCK];\n    size_t i;\n"
            s += "    for (i = b; i < e; i += LOSSC_BLOCK) {\n"
            s += "        const size_t m = e - i < LOSSC_BLOCK ? e - i : LOSSC_BLOCK;\n"
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
        return s + "    return lossc_lanes_total(acc);\n}\n\n"
    }

    /// The exported kernel of one precision, its `_mean_` twin and (multiclass) its `_labels_`
    /// twin: resolve params, compute the
    /// loop-invariant nodes once, fill the job, and run the chunks of the ISA path in use on
    /// the loss's thread count (`lossc_run`).
    func kernel(_ p: CPrecision) -> String {
        var s = entry(p, labels: false)
        s += "double \(interface.meanName(p))(\(interface.parameters(p)))\n{\n"
        s += "    const double sum = \(interface.kernelName(p))(\(interface.argumentNames));\n"
        s += "    return n ? sum / (double)n : 0.0;\n}\n\n"
        if plan.kind == .multiclass { s += entry(p, labels: true) }
        return s
    }

    /// One exported kernel: `NAME_f32` or, with `labels`, `NAME_labels_f32` (y = NULL in the
    /// job, the labels instead).
    func entry(_ p: CPrecision, labels: Bool) -> String {
        let all = plan.allRoots
        let name = labels ? interface.labelsName(p) : interface.kernelName(p)
        var s = "double \(name)(\(interface.parameters(p, labels: labels)))\n{\n"
        s += preamble(p)
        s += "    \(jobType(p)) job;\n"
        let readByAny = pointersRead(all)
        for d in interface.dataPointers where !readByAny.contains(d.name) { s += "    (void)\(labels && d.name == "y" ? "labels" : d.name);\n" }
        if plan.kind == .multiclass { s += "    job.classes = classes;\n    job.labels = \(labels ? "labels" : "NULL");\n" }
        for name in readByAny { s += "    job.\(name) = \(labels && name == "y" ? "NULL" : name);\n" }
        s += "    job.loss = loss;\n    job.\(interface.gradientPointer) = \(interface.gradientPointer);\n"
        if readsInvariants { s += "    memcpy(job.inv, inv, sizeof job.inv);\n" } else if hasInvariants { s += "    (void)inv;\n" }
        if plan.hasFastPath { s += "    job.fast = fast;\n" }
        let width = plan.kind == .multiclass ? "classes" : (plan.kind == .box ? "4" : "1")
        s += "    return lossc_run(n, \(width), LOSSC_PICK(\(chunkName(p))), &job, lossc_threads_\(prefix));\n}\n\n"
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

    /// The data arguments of a row function for row `row` (a C expression): each input row
    /// the version reads, its weight, and y from `onehot` when the kernel was given labels.
    func rowArguments(_ v: Version, row: String, onehot: String) -> [String] {
        pointersRead(roots(v)).map { name in
            switch name {
            case "w": return "w[\(row)]"
            case "y": return "labels ? \(onehot) : y + \(row) * classes"
            default: return "\(name) + \(row) * classes"
            }
        }
    }

    /// Inside the chunk's row loop: when the gradient is wanted, four rows are left and none is
    /// ignored (or out of range), the group function of the version that fits runs them (see
    /// `CRowGroups`); the losses are summed per row, in row order, as the loop below would.
    func groupedRows(_ p: CPrecision) -> String {
        let T = p.cType, grad = interface.gradientPointer, n = Self.groupRows, rows = 0..<n
        let inRange = rows.map { "labels[r + \($0)] >= 0 && labels[r + \($0)] <= (int64_t)classes" }.joined(separator: " && ")
        var s = groupGuard
        s += "        if (grouped && \(grad) && e - r >= \(n) && (!labels || (\(inRange)))) {\n"
        s += "            \(T) vs[\(n)];\n            int q;\n"
        s += "            if (labels) for (q = 0; q < \(n); q++) if (labels[r + q] < (int64_t)classes) onehot_group[q][labels[r + q]] = 1;\n"
        s += dispatch(p, indent: "            ", grouped: true) { v in
            var args = ["classes"]
            for q in rows {
                args += rowArguments(v, row: "(r + \(q))", onehot: "onehot_group[\(q)]")
                if v.gradient { args.append("\(grad) + (r + \(q)) * classes") }
            }
            if !invariantsRead(v).isEmpty { args.append("inv") }
            args.append("vs")
            return "\(groupName(p, v))(\(args.joined(separator: ", ")));"
        }
        s += "            for (q = 0; q < \(n); q++) {\n"
        s += "                if (labels && labels[r + q] < (int64_t)classes) onehot_group[q][labels[r + q]] = 0;\n"
        s += "                if (loss) loss[r + q] = vs[q];\n                acc[(r + q - b) & 15] += (double)vs[q];\n            }\n"
        s += "            r += \(n - 1);  /* and the loop's r++ */\n            continue;\n        }\n#endif\n"
        return s
    }

    /// The calls of the versions that fit, nested by condition (gradient wanted, default
    /// exponents, row cached); `grouped` fixes the first and the last instead (the row groups
    /// are value + gradient versions on cached rows).
    func dispatch(_ p: CPrecision, indent: String, grouped: Bool = false, call: (Version) -> String) -> String {
        var conditions: [(String, WritableKeyPath<Version, Bool>)] = grouped ? [] : [("\(interface.gradientPointer)", \.gradient)]
        if plan.hasFastPath { conditions.append(("fast", \.fast)) }
        if plan.kind == .multiclass && !grouped { conditions.append(("classes <= LOSSC_ROW", \.cached)) }
        func nest(_ level: Int, _ v: Version, _ pad: String) -> String {
            if level == conditions.count { return "\(pad)\(call(v))\n" }
            var yes = v, no = v
            yes[keyPath: conditions[level].1] = true
            no[keyPath: conditions[level].1] = false
            return "\(pad)if (\(conditions[level].0)) {\n" + nest(level + 1, yes, pad + "    ")
                + "\(pad)} else {\n" + nest(level + 1, no, pad + "    ") + "\(pad)}\n"
        }
        return nest(0, Version(gradient: grouped, fast: false, cached: grouped), indent)
    }
}
