using System.Text;

namespace VlmCaption.Output.Datasets
{
    /// <summary>A plain CSV to edit in a spreadsheet: file_name, caption, width and height (upright), a row a caption.</summary>
    internal static class CsvFormat
    {
        public static void Plan(DatasetPlan plan, string target, System.Collections.Generic.List<DatasetImage> images, bool absolute)
        {
            var text = new StringBuilder("file_name,caption,width,height\n");
            int neutralised = 0;
            foreach (DatasetImage image in images)
            {
                (int width, int height) = DatasetExport.Size(image.Path);
                foreach (string caption in image.Captions)
                {
                    string name = Cell(image.Written(absolute), ref neutralised);
                    text.Append(DatasetText.Csv(name)).Append(',').Append(DatasetText.Csv(Cell(caption, ref neutralised))).Append(',').Append(width).Append(',').Append(height).Append('\n');
                }
            }

            if (neutralised > 0)
            {
                plan.Warnings.Add($"{neutralised} cells began with =, +, -, @, a tab or a carriage return, which a spreadsheet runs as a formula; each was written with a leading apostrophe ('), which spreadsheets show as text. Remove it from a caption before saving it back, or export ImageFolderCsv, which keeps cells exactly.");
            }

            plan.Files.Add(new DatasetFile(target, text.ToString()));
        }

        // OWASP's CSV injection advice: a cell a spreadsheet would evaluate is prefixed with an apostrophe.
        private static string Cell(string value, ref int neutralised)
        {
            if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                neutralised++;
                return "'" + value;
            }

            return value;
        }
    }
}
