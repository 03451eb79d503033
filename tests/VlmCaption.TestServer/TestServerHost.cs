using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace VlmCaption.TestServer;

/// <summary>Builds and starts the reference server on 127.0.0.1; used by Program and, in-process, by the xunit tests.</summary>
public static class TestServerHost
{
    public static async Task<RunningServer> StartAsync(ServerOptions options, int port = 0, string? logPath = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, port);
            // Batch input files may be 200 MB (OpenAI's limit), past Kestrel's 30 MB default; BatchApi checks the limit itself.
            k.Limits.MaxRequestBodySize = BatchApi.MaxFileBytes + (1 << 20);
        });
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(o => o.MultipartBodyLengthLimit = BatchApi.MaxFileBytes + (1 << 20));
        WebApplication app = builder.Build();
        var state = new ServerState(options, logPath);
        var chat = new ChatHandler(state);
        Uri? started = null;

        // This server also stands in for a forward proxy (RFC 9110 7.1, 9112 3.2.2): a client going through a
        // proxy sends it the whole URL (absolute form), whose host is the one the client wanted, so a request
        // for a host that exists nowhere (vlm.invalid) that arrives here came through a proxy. With the option
        // ProxyAuthorization ("user:password") it asks for Basic credentials with 407 and Proxy-Authenticate (9110 11.7.1).
        app.Use(async (context, next) =>
        {
            string host = context.Request.Host.Host;
            if (host is not ("127.0.0.1" or "localhost"))
            {
                if (state.Options.ProxyAuthorization is string expected
                    && context.Request.Headers["Proxy-Authorization"].ToString() != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(expected)))
                {
                    context.Response.StatusCode = 407;
                    context.Response.Headers["Proxy-Authenticate"] = "Basic realm=\"vlmcaption-test\"";
                    // squid answers with its ERR_CACHE_ACCESS_DENIED page (seen from squid 5.7, Debian 12).
                    context.Response.ContentType = "text/html;charset=utf-8";
                    await context.Response.WriteAsync("<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n<html><head>\n<title>ERROR: Cache Access Denied</title>\n</head><body><h1>ERROR</h1><h2>Cache Access Denied.</h2></body></html>\n");
                    return;
                }

                Interlocked.Increment(ref state.ProxiedRequests);
            }

            await next();
        });
        new BatchApi(state, () => started!).Map(app);

        app.MapGet("/v1/models", async context =>
        {
            state.Log.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["time"] = DateTimeOffset.UtcNow.ToString("O"),
                ["path"] = context.Request.Path.Value,
                ["authorization"] = context.Request.Headers.Authorization.Count > 0 ? "Bearer ***" : null,
            });
            Persona persona = state.Persona;
            if (state.IsLoading)
            {
                await ChatHandler.LoadingAsync(context);
                return;
            }

            if (!state.IsAuthorized(context))
            {
                await ChatHandler.UnauthorizedAsync(context, state);
                return;
            }

            if (persona.ListRefusesBearer && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.Ordinal))
            {
                // Anthropic: /v1/models wants x-api-key and anthropic-version (altic-dev/FluidVoice#137).
                context.Response.StatusCode = 401;
                await context.Response.WriteAsync("""{"type":"error","error":{"type":"authentication_error","message":"Invalid bearer token"}}""");
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(persona.ModelList(state.Options.Models).ToJsonString());
        });
        app.MapPost("/v1/chat/completions", chat.HandleAsync);
        app.MapGet("/debug/requests", () => Results.Text(state.SettledLog().ToJsonString(RequestLog.Format), "application/json"));
        app.MapGet("/debug/stats", () => Results.Json(state.Stats()));
        app.MapPost("/debug/reset", async context =>
        {
            ServerOptions? replacement = context.Request.ContentLength > 0
                ? await JsonSerializer.DeserializeAsync<ServerOptions>(context.Request.Body, ServerOptions.Json)
                : null;
            state.Reset(replacement);
            context.Response.StatusCode = 204;
        });
        app.MapGet("/debug/image", context =>
        {
            ImageSpec spec = ImageSpec.FromQuery(context.Request.Query);
            context.Response.ContentType = "application/octet-stream";
            byte[] image = context.Request.Query["declareOnly"] == "true" ? ImageFactory.PngDeclaring(spec.Width, spec.Height) : ImageFactory.Make(spec);
            return context.Response.Body.WriteAsync(image).AsTask();
        });

        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        started = new Uri(address.Replace("[::1]", "127.0.0.1"));
        return new RunningServer(app, state, started);
    }
}

/// <summary>A started server: its base address and state; dispose to stop it.</summary>
public sealed class RunningServer(WebApplication app, ServerState state, Uri address) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    /// <summary>The OpenAI-compatible base URL, ending in /v1.</summary>
    public string BaseUrl => Address.ToString().TrimEnd('/') + "/v1";

    public ServerState State { get; } = state;

    /// <summary>Cancelled when the host begins to stop (Ctrl+C or SIGTERM reach its console lifetime).</summary>
    public CancellationToken Stopping => app.Lifetime.ApplicationStopping;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
