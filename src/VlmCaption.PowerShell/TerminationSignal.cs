using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// While captioning runs, SIGTERM (a scheduler or service manager ending the task) stops it the way Ctrl+C does:
    /// the default termination is cancelled and the process sends itself SIGINT, which PowerShell turns into a
    /// pipeline stop, so captions stay whole, claims are let go and scripts' finally blocks run. Outside a run the
    /// handler is gone and SIGTERM ends the process as usual. PosixSignalRegistration exists on .NET 6 and later,
    /// so it is found by reflection; on Windows and on Windows PowerShell nothing is registered.
    /// </summary>
    internal sealed class TerminationSignal : IDisposable
    {
        private const int SigInt = 2;

        private static readonly Type? Registration = Type.GetType("System.Runtime.InteropServices.PosixSignalRegistration, System.Runtime.InteropServices");

        private readonly IDisposable? registration;

        public TerminationSignal()
        {
            if (Registration is null || RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return;
            }

            Type signal = Registration.Assembly.GetType("System.Runtime.InteropServices.PosixSignal")!;
            Type context = Registration.Assembly.GetType("System.Runtime.InteropServices.PosixSignalContext")!;
            Delegate handler = Delegate.CreateDelegate(typeof(Action<>).MakeGenericType(context), typeof(TerminationSignal).GetMethod(nameof(OnTerminate), BindingFlags.NonPublic | BindingFlags.Static)!);
            object sigterm = Enum.Parse(signal, "SIGTERM");
            registration = (IDisposable?)Registration.GetMethod("Create", new[] { signal, handler.GetType() })?.Invoke(null, new[] { sigterm, handler });
        }

        public void Dispose() => registration?.Dispose();

        private static void OnTerminate(object context)
        {
            context.GetType().GetProperty("Cancel")?.SetValue(context, true);
            _ = Kill(Process.GetCurrentProcess().Id, SigInt);
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int process, int signal);
    }
}
