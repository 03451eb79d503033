using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>Sends no Authorization header: local servers need no key, and a dummy one would only leak into logs.</summary>
    internal sealed class NoAuthenticationPolicy : AuthenticationPolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNext(message, pipeline, currentIndex);

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNextAsync(message, pipeline, currentIndex);
    }
}
