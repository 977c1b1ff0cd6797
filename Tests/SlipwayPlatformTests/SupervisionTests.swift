import Foundation
import SlipwaySupervision
import SlipwayTestSupport
import Testing

@Suite struct RotatingLogFileTests {
    @Test func aLargeWriteFillsTheCurrentFileThenRotates() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/x.log"
        let file = try RotatingLogFile(path: path, maxBytes: 4096, keep: 1)
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 26 + 97) }
        bytes.withUnsafeBytes { file.write($0) }
        let size = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1 }
        // 10,000 bytes at 4,096 per file: two rotations; with keep 1 the oldest 4,096 are gone.
        #expect(size(path) == 10_000 - 2 * 4096)
        #expect(size(path + ".1") == 4096)
        #expect(!FileManager.default.fileExists(atPath: path + ".2"))
        let current = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(current) == Array(bytes.suffix(10_000 - 2 * 4096)))
    }

    @Test func remembersTheLastLines() throws {
        let directory = try makeTemporaryDirectory()
        let file = try RotatingLogFile(path: directory + "/y.log", maxBytes: 1 << 20, keep: 0)
        Array("one\ntwo\n\nthree\nfour".utf8).withUnsafeBytes { file.write($0) }
        #expect(file.lastLines(3) == ["two", "three", "four"])
        #expect(RotatingLogFile.lastLines(ofFile: directory + "/y.log", 2) == ["three", "four"])
        #expect(RotatingLogFile.lastLines(ofFile: directory + "/none.log", 2) == [])
    }

    @Test func anUnwritablePathIsAnError() throws {
        #expect(throws: LogFileError(path: "/nonexistent/z.log", reason: "No such file or directory")) {
            try RotatingLogFile(path: "/nonexistent/z.log", maxBytes: 4096, keep: 1)
        }
    }
}

@Suite struct RecordTests {
    @Test func valuesStayOneLineAndComeBackUnchanged() {
        var record = RecordText()
        record.append("stderr", "a\\b\nc\rd=e")
        record.append("stderr", "\u{301}accent first")
        record.append("empty", "")
        #expect(record.text == "stderr=a\\\\b\\nc\\rd=e\nstderr=\u{301}accent first\nempty=\n")
        let read = RecordText(parsing: record.text + "no equals sign\n")
        #expect(read == record)
        #expect(read.values("stderr") == ["a\\b\nc\rd=e", "\u{301}accent first"])
        #expect(read.value("empty") == "")
        #expect(read.value("missing") == nil)
    }

    @Test func aSupervisorRecordRoundTrips() {
        let record = SupervisorRecord(
            instance: "shop-1",
            app: "shop",
            supervisorPid: 4100,
            pid: 4101,
            startedAtMilliseconds: 1_767_225_600_000,
            stopSignal: 15,
            graceMilliseconds: 10_000
        )
        #expect(
            record.text
                == """
                format=1
                instance=shop-1
                app=shop
                supervisor-pid=4100
                pid=4101
                started-ms=1767225600000
                stop-signal=15
                grace-ms=10000

                """
        )
        #expect(SupervisorRecord(text: record.text) == record)
        #expect(SupervisorRecord(text: record.text.replacingOccurrences(of: "pid=4101\n", with: "")) == nil)
        #expect(SupervisorRecord(text: record.text.replacingOccurrences(of: "format=1", with: "format=2")) == nil)
    }

    @Test func exitRecordsRoundTrip() {
        let endings: [ExitRecord.Ending] = [.exited(7), .signaled(9), .notStarted("/x: No such file or directory")]
        for ending in endings {
            let record = ExitRecord(
                instance: "shop-1",
                ending: ending,
                ranForMilliseconds: 1520,
                stderrTail: ["a", "b"]
            )
            #expect(ExitRecord(text: record.text) == record)
        }
        let exited = ExitRecord(instance: "shop-1", ending: .exited(3), ranForMilliseconds: 5, stderrTail: ["oops"])
        #expect(exited.text == "format=1\ninstance=shop-1\nstatus=exited 3\nran-ms=5\nstderr=oops\n")
        #expect(ExitRecord(text: "format=1\ninstance=shop-1\nstatus=exited\nran-ms=5\n") == nil)
        #expect(ExitRecord(text: "format=1\ninstance=shop-1\nstatus=vanished 3\nran-ms=5\n") == nil)
    }

    @Test func waitStatusesDecode() {
        #expect(ExitRecord.Ending(waitStatus: 7 << 8) == .exited(7))
        #expect(ExitRecord.Ending(waitStatus: 0) == .exited(0))
        #expect(ExitRecord.Ending(waitStatus: 9) == .signaled(9))
        // Killed with a core dump.
        #expect(ExitRecord.Ending(waitStatus: 0x80 | 11) == .signaled(11))
        // Stopped.
        #expect(ExitRecord.Ending(waitStatus: (19 << 8) | 0x7f) == nil)
    }

    @Test func filesAreReplacedWhole() throws {
        let directory = try makeTemporaryDirectory()
        let path = directory + "/a/b/record"
        try Files.makeDirectories(directory + "/a/b")
        try Files.writeAtomically("one\n", to: path)
        try Files.writeAtomically("two\n", to: path)
        #expect(Files.read(path) == "two\n")
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        Files.remove(path)
        #expect(Files.read(path) == nil)
    }

    @Test func pathsFollowTheStateDirectoryLayout() {
        let paths = SupervisionPaths(stateDirectory: "/var/lib/slipway", app: "shop", instance: "shop-3")
        #expect(paths.stdoutLog == "/var/lib/slipway/logs/shop/shop-3.out.log")
        #expect(paths.stderrLog == "/var/lib/slipway/logs/shop/shop-3.err.log")
        #expect(paths.supervisorRecord == "/var/lib/slipway/instances/shop/shop-3.supervisor")
        #expect(paths.exitRecord == "/var/lib/slipway/instances/shop/shop-3.exit")
    }
}

@Suite struct SupervisorArgumentsTests {
    let arguments = SupervisorArguments(
        instance: "shop-1",
        app: "shop",
        stateDirectory: "/state",
        logMaxBytes: 4096,
        logKeep: 2,
        stopSignal: 15,
        graceMilliseconds: 500,
        workingDirectory: "/work dir",
        program: "/bin/sh",
        arguments: ["sh", "-c", "echo --"]
    )

    @Test func theCommandLineRoundTrips() throws {
        #expect(try SupervisorArguments(parsing: arguments.words) == arguments)
        var withoutDirectory = arguments
        withoutDirectory.workingDirectory = nil
        #expect(try SupervisorArguments(parsing: withoutDirectory.words) == withoutDirectory)
        #expect(!withoutDirectory.words.contains("--workdir"))
    }

    @Test func badCommandLinesAreRefusedWithTheReason() {
        let words = arguments.words
        func refusal(_ words: [String]) -> String? {
            do {
                _ = try SupervisorArguments(parsing: words)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal([]) == "missing \"--\" before the program")
        #expect(refusal(words + ["--instance"]) == nil)
        #expect(refusal(["--colour", "red"] + words) == "unknown option \"--colour\"")
        #expect(refusal(["--app", "x"] + words) == "--app given twice")
        #expect(refusal(Array(words.prefix(while: { $0 != "--" })) + ["--", "/bin/sh"]) != nil)
        #expect(refusal(["--instance", "--app"] + words.dropFirst(2)) == "--instance needs a value")
        let replacing = { (option: String, value: String) in
            var copy = words
            copy[copy.firstIndex(of: option)! + 1] = value
            return refusal(copy)
        }
        #expect(replacing("--instance", "../etc") == "--instance must not contain \"/\"")
        #expect(replacing("--app", "") == "--app is empty")
        #expect(replacing("--log-keep", "-1") == "--log-keep must be a whole number in 0...1000")
        #expect(replacing("--stop-signal", "TERM") == "--stop-signal must be a whole number in 1...64")
        #expect(replacing("--grace-ms", "1.5") != nil)
        #expect(refusal(words.filter { $0 != "--state" && $0 != "/state" }) == "missing --state")
    }

    @Test func theSupervisorExitsWithStatus2OnBadUsage() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.path("slipway-supervisor"))
        process.arguments = ["--instance", "shop-1"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        #expect(output.hasPrefix("slipway-supervisor: missing \"--\" before the program\nusage: slipway-supervisor"))
    }
}
