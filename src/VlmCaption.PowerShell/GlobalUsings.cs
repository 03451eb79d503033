// The namespaces nearly every cmdlet file reads, named once for the project.
global using System;
global using System.Collections;
global using System.Collections.Generic;
global using System.IO;
global using System.Linq;
global using System.Management.Automation;
global using System.Security;
global using VlmCaption.Config;
global using VlmCaption.Images;
global using VlmCaption.Output;
global using VlmCaption.Transport;
