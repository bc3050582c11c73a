import Foundation
import Testing
@testable import Codegen
import LossDSL

/// No text from a `.loss` file or an API caller reaches emitted code unescaped: hostile loss
/// names (quotes, comment terminators, newlines, keywords, non-ASCII, trigraphs) and params
/// named like C keywords and macros compile, and the kernels still compute the right thing.
struct CNamesTests {
    static let hostile = [
        "a\"b", "*/ int x; /*", "line\nbreak", "return", "int", "restrict", "naïve", "日本語", "", "??/",
        "back\\slash", "tab\there", "_Bool", "__x", "x_", "x__y", "NAN", "linux", "a b", "9lives", "focal",
        "v_x20b_", "va_x20b_",
    ]

    @Test func identifiersAreSafeAndInjective() {
        var seen: [String: String] = [:]
        for name in Self.hostile {
            let id = CNames.identifier(name)
            #expect(id.utf8.allSatisfy { CNames.isAlnum($0) || $0 == UInt8(ascii: "_") }, "\(id)")
            #expect(id.first.map { $0.isLetter } == true, "\(id)")
            #expect(!CNames.reserved.contains(id))
            #expect(seen[id] == nil, "\(name) and \(seen[id] ?? "") both give \(id)")
            seen[id] = name
        }
        #expect(CNames.identifier("alpha") == "alpha")
        #expect(CNames.identifier("int") == "vint_")
        #expect(CNames.identifier("a b") == "va_x20b_")
        #expect(CNames.identifier("x_") == "vx___")
    }

    @Test func commentTextCannotEndAComment() {
        let text = CNames.commentText("a */ b /* c ??/ d \\ e\u{0} ü\nnext")
        #expect(!text.contains("*/") && !text.contains("/*") && !text.contains("??") && !text.contains("\\"))
        #expect(text.unicodeScalars.allSatisfy { $0 == "\n" || ($0.value >= 0x20 && $0.value < 0x7F) })
        #expect(!CNames.commentText("x\ny", multiline: false).contains("\n"))
    }

    /// Every hostile name as a loss name, bundled in one file: it compiles under the strict
    /// flags, and each kernel computes its loss (x + 2y) under the sanitized name.
    @Test func hostileLossNamesCompileAndRun() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let loss = CompiledLoss.compile(try Formula.parse("loss t: binary\nreturn x + 2 * y\n"))
        let lib = try CHarness.build(CEmitter.bundle(Self.hostile.map { (loss, $0) }), tag: "hostile", compiler: cc)
        for name in Self.hostile {
            let k = try NativeKernel(library: lib, prefix: CNames.identifier(name), kind: .binary)
            let out = try #require(k.run(CBatch<Float>(n: 2, classes: 1, arrays: [[1, 2], [3, 4], [0, 0]])))
            #expect(out.loss == [7, 10] && out.gradient == [1, 1], "\(name)")
        }
    }

    /// Params named like C keywords and macros, a loss named `return`, and `*/` in a comment
    /// of the source: the pair compiles (C strict, the header as C++), and params passed at run
    /// time land in the right fields.
    @Test func hostileParamNames() throws {
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let text = """
        # a comment with */ and /* and ??/ and a backslash \\
        loss return: binary
        param int = 2
        param restrict = 1
        param NAN = 0.5
        param linux = 3
        param _Bool = 1
        param x_ = 2
        return int * x + restrict * y + NAN * linux + _Bool - x_

        """
        let loss = CompiledLoss.compile(try Formula.parse(text, path: "hostile \"*/.loss"))
        let pair = CEmitter.emit(loss, command: "lossc emit hostile \"*/.loss")
        #expect(pair.prefix == "vreturn_")
        #expect(pair.header.contains("double vint_;") && pair.header.contains("double vNAN_;") && pair.header.contains("double vx___;"))
        let lib = try CHarness.build(pair.source, tag: "params", compiler: cc)
        let k = try NativeKernel(library: lib, prefix: pair.prefix, kind: .binary)
        let b = CBatch<Double>(n: 1, classes: 1, arrays: [[10], [100], [0]])
        // int=2 restrict=1 NAN=0.5 linux=3 _Bool=1 x_=2: 20 + 100 + 1.5 + 1 - 2
        #expect(k.run(b)?.loss == [120.5])
        // int=1 restrict=0 NAN=2 linux=4 _Bool=0 x_=0.5: 10 + 0 + 8 + 0 - 0.5
        #expect(k.run(b, params: [1, 0, 2, 4, 0, 0.5])?.loss == [17.5])
        if let cpp = SystemCompiler.named("g++") ?? SystemCompiler.named("clang++") {
            let dir = try CHarness.temporaryDirectory("params-h")
            defer { try? FileManager.default.removeItem(at: dir) }
            let h = dir.appendingPathComponent("h.h").path
            try pair.header.write(toFile: h, atomically: true, encoding: .utf8)
            let out = cpp.run(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-pedantic", "-x", "c++", h])
            #expect(out.succeeded, "\(out.text.prefix(2000))")
        }
    }

    /// Names shaped like macros (all capitals: lossc's own `LOSSC_BLOCK`, `<stdint.h>`'s
    /// `INT32_MAX`, `M_PI_2`), a loss named `MATH` (the guard of lossc_math.h): never plain, so
    /// the C compiles and the guard is the loss's own. Ranking's `<prefix>_REACHES_U` differs
    /// for `pap`, `PAP`, `Pap` and `paP`.
    @Test func macroShapedNamesCannotCollide() throws {
        for name in ["LOSSC_BLOCK", "LOSSC_RESTRICT", "INT32_MAX", "M_PI_2", "MATH", "X", "CE"] {
            #expect(!CNames.isPlain(name) && CNames.identifier(name).hasPrefix("v"), "\(name)")
        }
        let macros = ["pap", "PAP", "Pap", "paP", "p_ap", "P_AP"].map { CNames.reachesUMacro(CNames.identifier($0)) }
        #expect(Set(macros).count == macros.count, "\(macros)")
        let text = """
        loss MATH: binary
        param LOSSC_BLOCK = 2
        param LOSSC_RESTRICT = 3
        param INT32_MAX = 0.5
        param M_PI_2 = 4
        return LOSSC_BLOCK * x + LOSSC_RESTRICT * y + INT32_MAX * M_PI_2

        """
        let pair = CEmitter.emit(CompiledLoss.compile(try Formula.parse(text)))
        #expect(!pair.header.contains("#define LOSSC_MATH_H") && pair.prefix == "vMATH_")
        guard let cc = CHarness.compiler else { return CHarness.skip("no C compiler on PATH") }
        let lib = try CHarness.build(pair.source, tag: "macros", compiler: cc)
        let k = try NativeKernel(library: lib, prefix: pair.prefix, kind: .binary)
        // 2·10 + 3·100 + 0.5·4
        #expect(k.run(CBatch<Double>(n: 1, classes: 1, arrays: [[10], [100], [0]]))?.loss == [322])
    }
}
