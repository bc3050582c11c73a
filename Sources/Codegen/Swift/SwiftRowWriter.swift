import LossDSL

extension SwiftKernelWriter {
    /// One multiclass row (sample i, C = classes): the `RowProgram`'s passes as loops over the
    /// classes, accumulating in class order like the reference evaluator.
    func rowBody(_ p: CPrecision, _ roots: [NodeID], gradient: Bool, _ indent: String) -> String {
        let T = p.swiftType, m = p == .f32 ? "f" : ""
        let program = RowProgram(plan: plan, roots: roots)
        let inner = indent + "    "
        let readsVectors = !Set(plan.inputsRead(roots)).isDisjoint(with: [0, 1])
        var s = readsVectors ? "\(indent)let row = i * classes\n" : ""
        func scalars(_ ids: [NodeID]) {
            for id in ids {
                s += graph[id].op == .input ? "\(indent)let t\(id): \(T) = wData[i]\n" : statement(id, p, indent)
            }
        }
        func vectors(_ ids: [NodeID]) {
            for id in ids {
                let n = graph[id]
                switch n.op {
                case .input: s += "\(inner)let t\(id): \(T) = \(n.index == 0 ? "x" : "y")Data[row + k]\n"
                case .softmax: s += "\(inner)let t\(id): \(T) = exp\(m)(\(name(n.args[0], p)) - m\(n.args[0])) / s\(n.args[0])\n"
                case .logSoftmax: s += "\(inner)let t\(id): \(T) = \(name(n.args[0], p)) - m\(n.args[0]) - l\(n.args[0])\n"
                default: s += statement(id, p, inner)
                }
            }
        }
        scalars(program.scalarsBefore)
        let gradientRoot = gradient ? plan.loss.gradient.first : nil
        for (index, pass) in program.passes.enumerated() {
            var update = "", finish = ""
            for stat in pass.stats {
                switch stat {
                case .max(let a):
                    s += "\(indent)var m\(a): \(T) = -\(T).infinity\n"
                    update += "\(inner)if \(name(a, p)) > m\(a) { m\(a) = \(name(a, p)) }\n"
                    finish += "\(indent)if !m\(a).isFinite { m\(a) = 0 }\n"
                case .sumExp(let a):
                    s += "\(indent)var s\(a): \(T) = 0\n"
                    update += "\(inner)s\(a) += exp\(m)(\(name(a, p)) - m\(a))\n"
                case .reduce(let r):
                    let a = graph[r].args
                    s += "\(indent)var t\(r): \(T) = 0\n"
                    update += graph[r].op == .dot ? "\(inner)t\(r) += \(name(a[0], p)) * \(name(a[1], p))\n"
                                                  : "\(inner)t\(r) += \(name(a[0], p))\n"
                }
            }
            s += "\(indent)for k in 0..<classes {\n"
            let output = index == program.outputPass ? gradientRoot : nil
            vectors(output == nil ? pass.vectorNodes : Set(pass.vectorNodes).union(program.outputNodes).sorted())
            if let r = output { update += "\(inner)g[row + k] = \(name(r, p))\n" }
            for a in pass.logSums { finish += "\(indent)let l\(a): \(T) = log\(m)(s\(a))\n" }
            s += update + "\(indent)}\n" + finish
            scalars(pass.scalarsAfter)
        }
        if let r = gradientRoot, program.outputPass == nil {
            s += "\(indent)for k in 0..<classes {\n"
            vectors(program.outputNodes)
            s += "\(inner)g[row + k] = \(name(r, p))\n\(indent)}\n"
        }
        return s + "\(indent)v = \(name(plan.loss.value, p))\n"
    }
}
