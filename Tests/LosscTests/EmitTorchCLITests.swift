import Foundation
import Testing

/// `lossc emit --target torch` as a user runs it: the module on stdout or in a file, the
/// class named by --name, --param changing the emitted defaults, and exit 2 with a message
/// for what the torch target does not take.
struct EmitTorchCLITests {
    @Test func emitTorch() throws {
        let r = try CLI.run(["emit", "examples/focal.loss", "--target", "torch", "--param", "gamma=1.5"])
        #expect(r.status == 0 && r.out.contains("class FocalLoss(torch.nn.Module):"), "\(r.err)")
        #expect(r.out.contains("def __init__(self, alpha=0.25, gamma=1.5, reduction=\"mean\"):"))
        let named = try CLI.run(["emit", "examples/giou.loss", "--target", "torch", "--name", "my_giou"])
        #expect(named.status == 0 && named.out.contains("class MyGiouLoss(torch.nn.Module):") && named.out.contains("def forward(self, pred, target):"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lossc-cli-\(getpid())/emit-torch")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("ce.py").path
        let w = try CLI.run(["emit", "examples/cross_entropy.loss", "--target", "torch", "-o", path])
        #expect(w.status == 0 && w.err.contains("wrote \(path)"))
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("class CrossEntropyLoss(torch.nn.Module):"))

        let ranking = try CLI.run(["emit", "examples/pap_retinanet.loss", "--target", "torch", "--param", "num_topk=50"])
        #expect(ranking.status == 0 && ranking.out.contains("class PapRetinanetLoss(torch.nn.Module):"), "\(ranking.err)")
        #expect(ranking.out.contains("_members(s, y, sorted_valid, 2, 50)") && ranking.out.contains("REACHES_U = True"))
    }

    @Test func whatTorchDoesNotTakeExitsTwo() throws {
        let rankingPrecision = try CLI.run(["emit", "examples/ap_loss.loss", "--target", "torch", "--precision", "f32"])
        #expect(rankingPrecision.status == 2 && rankingPrecision.err.contains("--precision does not apply"), "\(rankingPrecision.err)")
        let precision = try CLI.run(["emit", "examples/focal.loss", "--target", "torch", "--precision", "f32"])
        #expect(precision.status == 2 && precision.err.contains("--precision does not apply"))
    }
}
