import Glibc
import SlipwaySupervision

/// The self-pipe the signal handlers write signal numbers to. Created before any handler is installed, so the
/// handlers only ever read it.
private let signalPipe: (read: Int32, write: Int32) = {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return (-1, -1) }
    for fd in fds {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        // Never blocks a handler, and lets the loop read until the pipe is empty.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    return (fds[0], fds[1])
}()

/// How long output is still read after the instance exited: its own children may hold the pipes open.
private let drainMilliseconds: Int64 = 1000

/// Runs one instance to its end.
struct Supervisor {
    let arguments: SupervisorArguments
    let paths: SupervisionPaths

    init(_ arguments: SupervisorArguments) {
        self.arguments = arguments
        self.paths = SupervisionPaths(
            stateDirectory: arguments.stateDirectory,
            app: arguments.app,
            instance: arguments.instance
        )
    }

    /// Starts the instance, captures its output until it ends, records how it ended. Returns the exit status of
    /// the supervisor itself.
    func run() -> Int32 {
        keepStandardDescriptorsOpen()
        closeInheritedDescriptors()
        // A session of its own: the controller's terminal, its process group and its death do not reach it.
        if getsid(0) != getpid() { _ = setsid() }
        // Whoever started it may have blocked signals (threads of a controller often do); SIGTERM and SIGCHLD
        // must arrive.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        installSignalHandlers()
        guard signalPipe.read >= 0 else { return notStarted("cannot create a pipe: \(lastError())") }
        do {
            try Files.makeDirectories(paths.logDirectory)
            try Files.makeDirectories(paths.recordDirectory)
        } catch {
            return notStarted("cannot create directory \(error)")
        }
        let logs: (stdout: RotatingLogFile, stderr: RotatingLogFile)
        do {
            logs = (
                try RotatingLogFile(path: paths.stdoutLog, maxBytes: arguments.logMaxBytes, keep: arguments.logKeep),
                try RotatingLogFile(path: paths.stderrLog, maxBytes: arguments.logMaxBytes, keep: arguments.logKeep)
            )
        } catch {
            return notStarted("cannot open log file \(error)")
        }
        if let directory = arguments.workingDirectory, !Files.isDirectory(directory) {
            return notStarted("working directory \(directory) is not a directory")
        }
        guard let stdoutPipe = makePipe(), let stderrPipe = makePipe() else {
            return notStarted("cannot create a pipe: \(lastError())")
        }

        let started = monotonicMilliseconds()
        let child: pid_t
        do {
            child = try ProcessSpawner.spawn(
                program: arguments.program,
                arguments: arguments.arguments,
                environment: nil,
                standardOutput: stdoutPipe.write,
                standardError: stderrPipe.write,
                workingDirectory: arguments.workingDirectory
            )
        } catch {
            return notStarted(error.description)
        }
        // Only the child writes into the pipes now, so they end when it (and what it started) has exited.
        close(stdoutPipe.write)
        close(stderrPipe.write)

        let record = SupervisorRecord(
            instance: arguments.instance,
            app: arguments.app,
            supervisorPid: getpid(),
            pid: child,
            startedAtMilliseconds: wallClockMilliseconds(),
            stopSignal: arguments.stopSignal,
            graceMilliseconds: arguments.graceMilliseconds
        )
        do {
            try Files.writeAtomically(record.text, to: paths.supervisorRecord)
        } catch {
            // Nobody could find the instance without its record: it must not run unsupervised.
            kill(-child, SIGKILL)
            _ = waitForExit(of: child)
            return notStarted("cannot write \(error)")
        }

        var loop = OutputLoop(
            child: child,
            outputs: [(stdoutPipe.read, logs.stdout), (stderrPipe.read, logs.stderr)],
            stopSignal: arguments.stopSignal,
            graceMilliseconds: arguments.graceMilliseconds
        )
        let (ending, endedAt) = loop.run()
        let exit = ExitRecord(
            instance: arguments.instance,
            ending: ending,
            ranForMilliseconds: endedAt - started,
            stderrTail: logs.stderr.lastLines(ExitRecord.tailLines)
        )
        do {
            try Files.writeAtomically(exit.text, to: paths.exitRecord)
        } catch {
            writeStandardError("slipway-supervisor: cannot write \(error)\n")
            return 1
        }
        return 0
    }

    /// Records that the program could not be started and returns the supervisor's exit status.
    private func notStarted(_ reason: String) -> Int32 {
        writeStandardError("slipway-supervisor: \(arguments.instance): \(reason)\n")
        let record = ExitRecord(
            instance: arguments.instance,
            ending: .notStarted(reason),
            ranForMilliseconds: 0,
            stderrTail: []
        )
        do {
            try Files.writeAtomically(record.text, to: paths.exitRecord)
        } catch {
            writeStandardError("slipway-supervisor: cannot write \(error)\n")
        }
        return 1
    }
}

/// Copies the child's output into its log files until it has exited and its pipes are drained, and stops it when
/// asked.
private struct OutputLoop {
    let child: pid_t
    var outputs: [(fd: Int32, log: RotatingLogFile)]
    let stopSignal: Int32
    let graceMilliseconds: Int64

    private var ending: ExitRecord.Ending?
    private var endedAt: Int64 = 0
    private var stopping = false
    private var killAt: Int64?
    private var drainUntil: Int64?
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(child: pid_t, outputs: [(fd: Int32, log: RotatingLogFile)], stopSignal: Int32, graceMilliseconds: Int64) {
        self.child = child
        self.outputs = outputs
        self.stopSignal = stopSignal
        self.graceMilliseconds = graceMilliseconds
    }

    /// How the child ended and when (monotonic milliseconds).
    mutating func run() -> (ExitRecord.Ending, Int64) {
        while true {
            // Every wake-up looks for the exit: a SIGCHLD may stand for several, or come before its byte.
            if ending == nil, let status = reap() {
                ending = status
                endedAt = monotonicMilliseconds()
                drainUntil = endedAt + drainMilliseconds
                killAt = nil
            }
            let now = monotonicMilliseconds()
            if let ending, outputs.isEmpty || now >= drainUntil! {
                for output in outputs { close(output.fd) }
                return (ending, endedAt)
            }
            if let killAt, now >= killAt {
                // The whole group: what the instance started goes with it.
                kill(-child, SIGKILL)
                self.killAt = nil
            }

            var timeout: Int32 = -1
            for deadline in [killAt, drainUntil].compactMap({ $0 }) {
                let wait = Int32(clamping: max(0, deadline - now))
                timeout = timeout < 0 ? wait : min(timeout, wait)
            }
            var fds = [pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)]
            fds += outputs.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), timeout)
            if ready < 0 {
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[0].revents != 0 { readSignals() }
            var index = outputs.count - 1
            while index >= 0 {
                if fds[index + 1].revents != 0, !copy(from: outputs[index]) {
                    close(outputs[index].fd)
                    outputs.remove(at: index)
                }
                index -= 1
            }
        }
    }

    /// Reads one chunk into the log; false once the pipe has ended.
    private mutating func copy(from output: (fd: Int32, log: RotatingLogFile)) -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(output.fd, $0.baseAddress, $0.count) }
        if count > 0 {
            buffer.withUnsafeBytes { output.log.write(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            return true
        }
        return count < 0 && (errno == EINTR || errno == EAGAIN)
    }

    private mutating func readSignals() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while true {
            let count = bytes.withUnsafeMutableBytes { read(signalPipe.read, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            for byte in bytes[..<count] where Int32(byte) == SIGTERM { stop() }
        }
    }

    /// The stop signal to the instance's group, then SIGKILL once the grace period is over. Asked twice, once.
    private mutating func stop() {
        guard !stopping, ending == nil else { return }
        stopping = true
        kill(-child, stopSignal)
        killAt = monotonicMilliseconds() + graceMilliseconds
    }

    private func reap() -> ExitRecord.Ending? {
        var status: Int32 = 0
        while true {
            let result = waitpid(child, &status, WNOHANG)
            if result < 0, errno == EINTR { continue }
            guard result == child else { return nil }
            return ExitRecord.Ending(waitStatus: status)
        }
    }
}

private func installSignalHandlers() {
    // Touched first: the handlers must find the pipe already made.
    _ = signalPipe
    for ignored in [SIGHUP, SIGINT, SIGPIPE] { signal(ignored, SIG_IGN) }
    for noted in [SIGTERM, SIGCHLD] {
        signal(noted) { number in
            let saved = errno
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(signalPipe.write, &byte, 1)
            errno = saved
        }
    }
}

/// Descriptors 0, 1 and 2 open (on `/dev/null` when they were closed), so no pipe is made on one of them.
private func keepStandardDescriptorsOpen() {
    while true {
        let fd = open("/dev/null", O_RDWR)
        if fd < 0 { return }
        if fd > 2 {
            close(fd)
            return
        }
    }
}

/// Closes every descriptor above 2: a supervisor outlives its starter and must not keep the starter's sockets or
/// files open (a listening socket would stay bound).
private func closeInheritedDescriptors() {
    guard let directory = opendir("/proc/self/fd") else { return }
    let own = dirfd(directory)
    var descriptors: [Int32] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        if let fd = Int32(name), fd > 2, fd != own { descriptors.append(fd) }
    }
    closedir(directory)
    for fd in descriptors { close(fd) }
}

private func makePipe() -> (read: Int32, write: Int32)? {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    // The child gets the write ends as 1 and 2 (dup2 clears the flag there); nothing else may inherit them.
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return (fds[0], fds[1])
}

private func waitForExit(of pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    return status
}

private func lastError() -> String {
    String(cString: strerror(errno))
}

/// Writes `text` to standard error, unbuffered.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
