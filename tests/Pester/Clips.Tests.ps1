# Video clips: captioned from frames a real ffmpeg takes out, sent in order with their times.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Prologue.ps1')
    $script:ffmpeg = Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue
    if (-not $ffmpeg) {
        Write-Host 'ffmpeg is not installed here (Debian: apt-get install ffmpeg; .ci/run installs it): the clip tests are skipped.'
    }
}

AfterAll {
    Stop-TestServer $server
}

Describe 'Video clips' {
    BeforeEach {
        Reset-TestServer $server
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive ([guid]::NewGuid()))
    }

    It 'sends frames spread evenly over a clip, in order, each after its time, and says so in the result' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $clip = New-TestClip -Path (Join-Path $folder 'colours.mp4')

        $result = Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 4

        $result.Status | Should -Be 'Succeeded'
        $result.Caption | Should -BeLike 'Frames red, green, blue, yellow. *'
        $result.SentFrameSeconds | Should -Be @(0.5, 1.5, 2.5, 3.5)
        $result.ClipSeconds | Should -Be 4
        $result.SentMediaType | Should -Be 'image/jpeg'
        (Get-TestServerRequest $server)[0].frames | Should -Be @('red', 'green', 'blue', 'yellow')
        $content = (Get-TestServerRequest $server)[0].body.messages[-1].content
        @($content | Where-Object type -eq 'image_url').Count | Should -Be 4
        ($content | Where-Object type -eq 'text').text | Should -Contain 'The 4 images that follow are frames of one video clip of 4 s, in order.'
        ($content | Where-Object type -eq 'text').text | Should -Contain 'Frame 3 of 4, at 2.5 s:'
    }

    It 'sends a frame from every -ClipEverySec seconds of a clip, and clip_frames spread evenly when that would be more' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $clip = New-TestClip -Path (Join-Path $folder 'colours.mp4')

        $every = Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipEverySec 1.5 -ClipFrames 8
        $capped = Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipEverySec 0.5 -ClipFrames 4

        $every.SentFrameSeconds | Should -Be @(0.75, 2.25, 3.75)
        $every.Caption | Should -BeLike 'Frames red, blue, yellow. *'
        $capped.SentFrameSeconds | Should -Be @(0.5, 1.5, 2.5, 3.5) -Because 'eight frames a half-second apart would be over -ClipFrames 4'
        $capped.Caption | Should -BeLike 'Frames red, green, blue, yellow. *'
    }

    It 'sends the clip itself with -ClipAs Video (a video_url part, as vLLM reads it), cut to -ClipMaxSec and scaled within -MaxImageSize' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $clip = New-TestClip -Path (Join-Path $folder 'whole.mov')

        $result = Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipAs Video -ClipMaxSec 2 -MaxImageSize 32

        $result.Caption | Should -BeLike 'Video video/mp4 of 2 s, 32x24. *'
        $result.SentMediaType | Should -Be 'video/mp4'
        $result.ClipSeconds | Should -Be 2
        $result.SentFrameSeconds.Count | Should -Be 0
        $content = (Get-TestServerRequest $server)[0].body.messages[-1].content
        @($content | Where-Object type -eq 'video_url').Count | Should -Be 1
        @($content | Where-Object type -eq 'image_url').Count | Should -Be 0
        ($content | Where-Object type -eq 'text').text | Should -Contain 'The video that follows is a clip of 2 s.'
    }

    It 'sends an animated GIF as its frames, spread over its running time, without ffmpeg; a still GIF as an image' {
        $gif = New-TestImage $server (Join-Path $folder 'animated.gif') -Format gif -Frames 3 -Color yellow
        $still = New-TestImage $server (Join-Path $folder 'still.gif') -Format gif -Color blue

        $animated = Get-VlmCaption -LiteralPath $gif.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 3 -FfmpegPath (Join-Path $folder 'no-ffmpeg')
        $single = Get-VlmCaption -LiteralPath $still.FullName -BaseUrl $server.BaseUrl -Model test

        $animated.Caption | Should -BeLike 'Frames yellow, white, white. *'
        $animated.SentFrameSeconds.Count | Should -Be 3
        "$($animated.SentWidth)x$($animated.SentHeight)" | Should -Be '64x48'
        $single.Caption | Should -BeLike 'Blue * image, 64x48 pixels*'
        $single.SentFrameSeconds.Count | Should -Be 0
    }

    It 'sends an animated WebP (made by libwebp) as its frames composed as the container says, without ffmpeg; fails a cut one alone' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        # The middle second is red with a small lime box: libwebp stores only the box, to be blended over the red.
        $boxed = New-TestWebpAnimation (Join-Path $folder 'boxed.webp') -Lossless -Sources @(
            'color=c=red:s=64x48:d=1:r=10'
            'color=c=red:s=64x48:d=1:r=10,drawbox=x=40:y=30:w=12:h=10:color=lime:t=fill'
            'color=c=blue:s=64x48:d=1:r=10')
        # Lossy frames with transparency carry an ALPH chunk: the red stripes are see-through, the lime ones (and the
        # first and last columns, so that the frame spans the canvas) not.
        $opaque = 'lt(mod(X,16),6)+gte(X,58)'
        $striped = New-TestWebpAnimation (Join-Path $folder 'striped.webp') -Sources @(
            "color=c=lime:s=64x48:d=1:r=10,format=rgba,geq=r='if($opaque,0,255)':g='if($opaque,255,0)':b=0:a='if($opaque,255,0)'"
            'color=c=blue:s=64x48:d=1:r=10')
        $bytes = [IO.File]::ReadAllBytes($boxed.FullName)
        $cut = Join-Path $folder 'cut.webp'
        [IO.File]::WriteAllBytes($cut, $bytes[0..($bytes.Length - 40)])

        $results = Get-VlmCaption -LiteralPath $boxed.FullName, $striped.FullName, $cut -BaseUrl $server.BaseUrl -Model test -ClipFrames 3 -FfmpegPath (Join-Path $folder 'no-ffmpeg') -ErrorAction SilentlyContinue -ErrorVariable failed

        $results.Count | Should -Be 2
        $results[0].Caption | Should -BeLike 'Frames red, red, blue. *'
        $results[0].SentFrameSeconds | Should -Be @(0.5, 1.5, 2.5)
        $results[0].ClipSeconds | Should -Be 3
        $results[1].Caption | Should -BeLike 'Frames green, blue. Green PNG image*' -Because 'the see-through stripes keep their alpha, so the first frame is sent as a PNG'
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'ImageDecodeFailed,*'
        $failed[0].Exception.Message | Should -BeLike "*cut.webp*cut short*"
        (Get-TestServerRequest $server).Count | Should -Be 2
    }

    It 'captions the clips of a folder beside the images, clip.mp4 to clip.txt, with caption.yaml''s clip_frames' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
        New-TestClip -Path (Join-Path $images 'walk.webm') -Colors blue, red, lime | Out-Null
        New-TestClip -Path (Join-Path $images 'turn.mov') -Colors yellow, blue, red | Out-Null
        New-TestImage $server (Join-Path $images 'still.png') | Out-Null
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe the clip.]`nbase_directory: set`nclip_frames: 3"

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

        $summary.Succeeded | Should -Be 3
        Get-Content -LiteralPath (Join-Path $images 'walk.txt') | Should -BeLike 'Frames blue, red, green. *'
        Get-Content -LiteralPath (Join-Path $images 'turn.txt') | Should -BeLike 'Frames yellow, blue, red. *'
        Get-Content -LiteralPath (Join-Path $images 'still.txt') | Should -BeLike 'Red PNG image*'
        (Invoke-VlmCaptionRun -ConfigPath $yaml).Skipped | Should -Be 0 -Because 'skip_if_caption_exists is off'
    }

    It 'survives a kill mid-run over clips: each clip ends with one whole caption, and none captioned is sent again' -Tag Slow -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
        $colours = 'red', 'lime', 'blue', 'yellow', 'cyan', 'magenta'
        foreach ($colour in $colours) { New-TestClip -Path (Join-Path $images "$colour.mp4") -Colors $colour, 'white' | Out-Null }
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe., Summarise.]`nbase_directory: set`nclip_frames: 2`nconcurrent_batch_size: 2`nskip_if_caption_exists: true"
        $runner = Join-Path $folder 'run.ps1'
        Set-Content -LiteralPath $runner "Import-Module '$env:VLMCAPTION_MODULE'; Invoke-VlmCaptionRun '$yaml' | Out-Null"
        Reset-TestServer $server -Options @{ models = @('test'); latencyMs = 200 }
        $process = Start-FreshPwshFile $runner
        $deadline = [datetime]::UtcNow.AddSeconds(60)
        while (@(Get-TestServerRequest $server).Count -lt 5 -and -not $process.HasExited -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
        $process.Kill()
        $process.WaitForExit()
        $done = @(Get-ChildItem -LiteralPath $images -Filter *.txt | ForEach-Object BaseName)
        $done.Count | Should -BeLessThan 6 -Because 'the run was killed while clips were in flight'

        Reset-TestServer $server -Options @{ models = @('test') }
        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml

        $summary.Skipped | Should -Be $done.Count
        $sentAgain = @(Get-TestServerRequest $server | ForEach-Object { $_.frames[0] } | Where-Object { ($_ -replace '^green$', 'lime') -in $done })
        $sentAgain | Should -BeNullOrEmpty
        foreach ($colour in $colours) {
            $named = if ($colour -eq 'lime') { 'green' } else { $colour }
            Get-Content -LiteralPath (Join-Path $images "$colour.txt") -Raw | Should -Match "^Frames $named, white\. .* Turn 2\. Text [0-9a-f]{8}\.$"
        }
    }

    It 'takes frames from a ten-hour clip as quickly as from a short one: each is a seek' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $long = Join-Path $folder 'ten-hours.mkv'
        & (Get-Command ffmpeg -CommandType Application | Select-Object -First 1).Source -nostdin -v error -f lavfi -i 'color=c=blue:s=32x24:r=1:d=36000' -c:v libx264 -preset ultrafast -g 600 -pix_fmt yuv420p $long

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $result = Get-VlmCaption -LiteralPath $long -BaseUrl $server.BaseUrl -Model test -ClipFrames 4
        $clock.Stop()

        $result.ClipSeconds | Should -Be 36000
        $result.SentFrameSeconds | Should -Be @(4500, 13500, 22500, 31500)
        $result.Caption | Should -BeLike 'Frames blue, blue, blue, blue. *'
        Write-Host "  (four frames of a ten-hour clip in $([math]::Round($clock.Elapsed.TotalSeconds, 1)) s)"
    }

    It 'sends the frames a clip that says it is longer than it is has, and says so; fails one that has none where it says' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        function New-Liar([string] $Name, [int] $Claimed) {
            # A four-second clip whose movie header (mvhd: version, flags, two times, timescale, duration) says $Claimed s.
            $clip = New-TestClip -Path (Join-Path $folder $Name)
            $bytes = [IO.File]::ReadAllBytes($clip.FullName)
            $at = [Text.Encoding]::ASCII.GetString($bytes).IndexOf('mvhd')
            $scale = [Buffers.Binary.BinaryPrimitives]::ReadUInt32BigEndian([ArraySegment[byte]]::new($bytes, $at + 16, 4))
            [Buffers.Binary.BinaryPrimitives]::WriteUInt32BigEndian([ArraySegment[byte]]::new($bytes, $at + 20, 4), [uint32] ($scale * $Claimed))
            [IO.File]::WriteAllBytes($clip.FullName, $bytes)
            $clip
        }

        $liar = New-Liar 'liar.mp4' 8
        $result = Get-VlmCaption -LiteralPath $liar.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 4 -WarningVariable warned -WarningAction SilentlyContinue
        $result.ClipSeconds | Should -Be 8
        $result.SentFrameSeconds | Should -Be @(1, 3)
        $result.Caption | Should -BeLike 'Frames green, yellow. *'
        "$warned" | Should -BeLike "*liar.mp4' says it lasts 8 s but gave no frame at 2 of the 4 times*"

        $worse = New-Liar 'worse.mp4' 80
        Get-VlmCaption -LiteralPath $worse.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 1 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ClipDecodeFailed,*'
        $failures[0].Exception.Message | Should -BeLike '*gave no frame at any of the 1 times*'
    }

    It 'fails each hostile clip alone, naming why, and captions the rest' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $good = New-TestClip -Path (Join-Path $folder 'good.mp4')
        $whole = [IO.File]::ReadAllBytes($good.FullName)
        [IO.File]::WriteAllBytes((Join-Path $folder 'cut.mp4'), $whole[0..([int]($whole.Length / 3))])
        New-Item -ItemType File -Path (Join-Path $folder 'empty.mp4') | Out-Null
        Set-Content -LiteralPath (Join-Path $folder 'text.mkv') 'not a clip at all'
        New-TestClip -Path (Join-Path $folder 'sound.mp4') -AudioOnly | Out-Null
        if (-not $IsWindows) { & mkfifo (Join-Path $folder 'fifo.mp4') }

        $results = @(Get-ChildItem -LiteralPath $folder | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -ClipFrames 2 -ErrorVariable failures -ErrorAction SilentlyContinue)

        $results.Image | Should -Be @('good.mp4')
        $byImage = @{}
        foreach ($failure in $failures) { $byImage[(Split-Path $failure.TargetObject -Leaf)] = $failure.FullyQualifiedErrorId.Split(',')[0] }
        $byImage['cut.mp4'] | Should -BeIn @('ClipDecodeFailed')
        $byImage['empty.mp4'] | Should -Be 'ClipDecodeFailed'
        $byImage['text.mkv'] | Should -Be 'ClipDecodeFailed'
        $byImage['sound.mp4'] | Should -Be 'ClipHasNoVideo'
        if (-not $IsWindows) { $byImage['fifo.mp4'] | Should -Be 'ClipDecodeFailed' }
    }

    It 'says to lower -ClipFrames when the server takes fewer images a request (vLLM''s --limit-mm-per-prompt)' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        Reset-TestServer $server -Options @{ maxImagesPerRequest = 2 }
        $clip = New-TestClip -Path (Join-Path $folder 'long.mp4')

        Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 4 -ErrorVariable failures -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'TooManyImages,*'
        $failures[0].Exception.Message | Should -BeLike '*At most 2 image(s)*lower clip_frames (-ClipFrames)*--limit-mm-per-prompt*'
        $two = Get-VlmCaption -LiteralPath $clip.FullName -BaseUrl $server.BaseUrl -Model test -ClipFrames 2
        $two.SentFrameSeconds | Should -Be @(1, 3)
        $two.Caption | Should -BeLike 'Frames *, yellow. *'
    }

    It 'says how to install ffmpeg when there is none, for each clip, and captions the images' {
        $clip = Join-Path $folder 'any.mp4'
        Set-Content -LiteralPath $clip 'whatever'
        New-TestImage $server (Join-Path $folder 'still.png') | Out-Null

        $results = @(Get-ChildItem -LiteralPath $folder | Get-VlmCaption -BaseUrl $server.BaseUrl -Model test -FfmpegPath (Join-Path $folder 'no-ffmpeg') -ErrorVariable failures -ErrorAction SilentlyContinue)

        $results.Image | Should -Be @('still.png')
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'FfmpegNotFound,*'
        $failures[0].Exception.Message | Should -BeLike '*apt-get install ffmpeg*'
    }

    It 'captions clips in batch rounds as a live run does: frames prepared once, kept with the run, and sent in order' -Skip:(-not (Get-Command ffmpeg -CommandType Application -ErrorAction SilentlyContinue)) {
        $images = New-Item -ItemType Directory -Path (Join-Path $folder 'set')
        New-TestClip -Path (Join-Path $images 'walk.mp4') -Colors red, lime, blue | Out-Null
        New-TestImage $server (Join-Path $images 'still.png') | Out-Null
        Set-Content -LiteralPath (Join-Path $images 'broken.mp4') 'not a clip'
        $yaml = Join-Path $folder 'caption.yaml'
        Set-Content -LiteralPath $yaml "base_url: $($server.BaseUrl)`nmodel: test`nprompts: [Describe it., Summarise it.]`nbase_directory: set`nclip_frames: 3`nbatch: true`nbatch_poll_sec: 0.05"

        $summary = Invoke-VlmCaptionRun -ConfigPath $yaml -ErrorVariable failures -ErrorAction SilentlyContinue

        $summary.Succeeded | Should -Be 2
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'ClipDecodeFailed,*'
        Get-Content -LiteralPath (Join-Path $images 'walk.txt') | Should -BeLike 'Frames red, green, blue. * Turn 2. *'
        Get-Content -LiteralPath (Join-Path $images 'still.txt') | Should -BeLike 'Red PNG image, 64x48 pixels. Turn 2. *'
    }
}
