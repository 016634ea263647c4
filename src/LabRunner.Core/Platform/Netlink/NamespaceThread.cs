namespace LabRunner.Platform.Netlink;

/// <summary>
/// The one thread that enters other network namespaces (setns) for a moment, to open a netlink socket there, and comes
/// back. Long-lived, so that a socket in another namespace costs two setns and not the creation of a thread (about
/// 1 ms each, thousands in a large lab); one at a time, since a thread is in one namespace. A thread that could not
/// come back is retired (it ends), and the next call gets a new one: no work ever runs in a namespace it did not ask for.
/// </summary>
internal static class NamespaceThread
{
    private static readonly Lock Gate = new();
    private static Worker? _worker;

    [ThreadStatic] private static Worker? _current;

    /// <summary>Runs <paramref name="work"/> on the namespace thread and returns its result (or throws its exception).</summary>
    public static T Run<T>(Func<T> work)
    {
        lock (Gate)
        {
            if (_worker is null || _worker.Retired) _worker = new Worker();
            return _worker.Run(work);
        }
    }

    /// <summary>Called on the namespace thread when it could not return to its own namespace: it ends after this work.</summary>
    public static void RetireCurrent()
    {
        if (_current is { } worker) worker.Retired = true;
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _ready = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Action? _work;

        public Worker() => new Thread(Loop) { IsBackground = true, Name = "netlink setns" }.Start();

        public volatile bool Retired;

        public T Run<T>(Func<T> work)
        {
            T result = default!;
            Exception? failure = null;
            _work = () =>
            {
                try { result = work(); }
                catch (Exception e) { failure = e; }
            };
            _ready.Release();
            _done.Wait();
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            return result;
        }

        private void Loop()
        {
            _current = this;
            while (!Retired)
            {
                _ready.Wait();
                _work!();
                _work = null;
                _done.Release();
            }
        }
    }
}
