import LossDSL

/// The public C interface of one emitted loss: its symbol names, the params struct and the
/// kernel prototypes, shared by the `.h` file and the `.c` file (which repeats them so that it
/// compiles on its own and never `#include`s a file name derived from user input).
struct CInterface {
    let plan: KernelPlan
    /// The sanitized loss name every exported symbol starts with.
    let prefix: String
    let precisions: [CPrecision]

    var kind: LossKind { plan.kind }
    var params: [ParamInfo] { plan.loss.formula.params }
    var paramsType: String { "\(prefix)_params" }

    /// Struct field of each param (injective, see `CNames.identifier`).
    var paramFields: [String] { params.map { CNames.identifier($0.name) } }

    func kernelName(_ p: CPrecision) -> String { "\(prefix)_\(p.rawValue)" }
    func meanName(_ p: CPrecision) -> String { "\(prefix)_mean_\(p.rawValue)" }
    /// Multiclass only: the kernel that takes class indices instead of a one-hot `y`.
    func labelsName(_ p: CPrecision) -> String { "\(prefix)_labels_\(p.rawValue)" }
    var defaultsFunction: String { "\(prefix)_default_params" }
    var setThreadsFunction: String { "\(prefix)_set_threads" }
    var setISAFunction: String { "\(prefix)_set_isa" }

    /// The data pointers of the kind, with the kind input indices each one carries.
    var dataPointers: [KernelPointer] { kind.kernelPointers }

    /// The gradient output pointer's name.
    var gradientPointer: String { kind.gradientPointer }

    /// The parameter list of a kernel (after `precision`); `labels`: the multiclass labels
    /// kernel's, whose `y` is `const int64_t *labels`.
    func parameters(_ p: CPrecision, labels: Bool = false) -> String {
        let T = p.cType, r = "LOSSC_RESTRICT"
        var list = ["size_t n"]
        if kind == .multiclass { list.append("size_t classes") }
        list += dataPointers.map { labels && $0.name == "y" ? "const int64_t *\(r) labels" : "const \(T) *\(r) \($0.name)" }
        list += ["const \(paramsType) *params", "\(T) *\(r) loss", "\(T) *\(r) \(gradientPointer)"]
        return list.joined(separator: ", ")
    }

    /// The argument names, in the order of `parameters`.
    var argumentNames: String {
        var list = ["n"]
        if kind == .multiclass { list.append("classes") }
        list += dataPointers.map(\.name) + ["params", "loss", gradientPointer]
        return list.joined(separator: ", ")
    }

    /// The params struct, the defaults function and the kernel prototypes.
    var declarations: String {
        var s = "#ifndef LOSSC_RESTRICT\n#if defined(__cplusplus)\n#define LOSSC_RESTRICT __restrict\n#else\n"
        s += "#define LOSSC_RESTRICT restrict\n#endif\n#endif\n\n"
        s += "/* Tunable parameters, in double whatever the kernel precision. */\n"
        s += "typedef struct \(paramsType) {\n"
        if params.isEmpty { s += "    char unused; /* this loss has no params (C forbids an empty struct) */\n" }
        for (p, field) in zip(params, paramFields) {
            s += "    double \(field); /* default \(formatNumber(p.value)) */\n"
        }
        s += "} \(paramsType);\n\n"
        s += "/* The params the loss was emitted with (the file's defaults unless overridden). */\n"
        s += "\(paramsType) \(defaultsFunction)(void);\n\n"
        s += "/* Threads the kernels use: 0 = every online core, default 1. The sum has the same bits for\n"
        s += "   every count (fixed chunks added in order). Set it before calling, not concurrently.\n"
        s += "   The threads are kept between calls: they spin about 100 us after one, then sleep. */\n"
        s += "void \(setThreadsFunction)(int n);\n"
        s += "/* The instruction-set path, chosen at the first call (or by $LOSSC_ISA = baseline, avx2,\n"
        s += "   avx512): -1 = the best this CPU has, 0 = baseline, 1 = AVX2+FMA, 2 = AVX-512; capped at\n"
        s += "   what the CPU has, shared by the losses of one .c file. Returns the level in use. */\n"
        s += "int \(setISAFunction)(int level);\n\n"
        for p in precisions {
            s += "/* Sum over the n samples of the loss, accumulated in double. params may be NULL (defaults);\n"
            s += "   loss (per-sample values) and \(gradientPointer) (gradient) may be NULL when not wanted. */\n"
            s += "double \(kernelName(p))(\(parameters(p)));\n"
            s += "/* The same, divided by n (0 when n is 0). The gradient stays per sample (not divided by n). */\n"
            s += "double \(meanName(p))(\(parameters(p)));\n"
            if kind == .multiclass {
                s += "/* The same with class indices instead of one-hot rows (what torch's cross_entropy takes):\n"
                s += "   labels[i] in [0, classes) is sample i's class; classes means none (an all-zero row: the\n"
                s += "   background of a sigmoid-per-class head); a negative label ignores the sample (loss and\n"
                s += "   gradient 0, like torch's ignore_index); a label above classes gives NaN (a data error). */\n"
                s += "double \(labelsName(p))(\(parameters(p, labels: true)));\n"
            }
            s += "\n"
        }
        return s
    }

    /// The initializer of the params struct with the emitted values.
    var defaultsInitializer: String {
        if params.isEmpty { return "{ 0 }" }
        return "{ " + params.map { CLiteral.c($0.value, .f64) }.joined(separator: ", ") + " }"
    }
}
